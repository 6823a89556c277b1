#include "relay/http/metrics_service.h"

namespace tw::http {

HttpResponse serveMetrics(const HttpRequest& req, const metrics::MetricsFolder& folder, bool ready) {
  if (req.method != "GET" && req.method != "HEAD") return jsonError(405, "only GET is served here");
  if (req.path == "/metrics")
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", folder.render()};
  if (req.path == "/healthz") return HttpResponse{200, "text/plain", "ok\n"};
  if (req.path == "/readyz")
    return ready ? HttpResponse{200, "text/plain", "ready\n"}
                 : HttpResponse{503, "text/plain", "not ready\n"};
  return jsonError(404, "unknown path; try /metrics, /healthz or /readyz");
}

MetricsService::~MetricsService() { stop(); }

Status<std::string> MetricsService::start(const SocketAddress& listen, const HttpOptions& options) {
  auto http = HttpServer::start(
      listen, [this](const HttpRequest& req) { return serveMetrics(req, folder_, ready_ && !draining_); },
      options);
  if (!http) return err(http.error());
  http_ = std::move(http.value());
  collector_ = std::thread([this] { collectLoop(); });
  return {};
}

void MetricsService::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (collector_.joinable()) collector_.join();
  http_.reset();
}

std::optional<SocketAddress> MetricsService::address() const {
  if (!http_) return std::nullopt;
  return http_->address();
}

void MetricsService::collectLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    for (auto& fn : collectors_) fn();
    lock.lock();
    wake_.wait_for(lock, period_, [this] { return stopping_; });
  }
}

}  // namespace tw::http
