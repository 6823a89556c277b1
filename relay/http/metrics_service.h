#pragma once
// GET /metrics, /healthz and /readyz on metrics.listen, plus the collector
// thread that, about once a second, asks every source (a worker snapshot via
// Worker::post(), the port pools, ...) to feed the metrics::MetricsFolder.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "metrics/folder.h"
#include "relay/http/http_server.h"

namespace tw::http {

/// The routes of the metrics listener; a free function so tests call it
/// without sockets.
HttpResponse serveMetrics(const HttpRequest& req, const metrics::MetricsFolder& folder, bool ready);

class MetricsService {
 public:
  explicit MetricsService(metrics::MetricsFolder& folder,
                          std::chrono::milliseconds period = std::chrono::seconds(1))
      : folder_(folder), period_(period) {}
  ~MetricsService();

  /// Registers a source called from the collector thread every period.
  /// Call before start().
  void addCollector(std::function<void()> fn) { collectors_.push_back(std::move(fn)); }
  /// Binds the HTTP listener and starts the collector thread.
  Status<std::string> start(const SocketAddress& listen, const HttpOptions& options = HttpOptions{});
  /// Stops the collector and the listener (before the workers go away).
  void stop();
  /// The bound address, once started.
  std::optional<SocketAddress> address() const;

  /// /readyz answers 200 only when ready and not draining.
  void setReady(bool ready) { ready_ = ready; }
  void setDraining(bool draining) { draining_ = draining; }
  bool draining() const { return draining_; }

 private:
  void collectLoop();

  metrics::MetricsFolder& folder_;
  std::chrono::milliseconds period_;
  std::vector<std::function<void()>> collectors_;
  std::unique_ptr<HttpServer> http_;
  std::thread collector_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<bool> ready_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace tw::http
