#pragma once
// A small HTTP server (libmicrohttpd, its own polling thread) for /metrics,
// health checks and the admin API. Handlers run on MHD's thread: they must
// never touch worker state directly (use Worker::post()).
#include <microhttpd.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "relay/base/address.h"
#include "relay/base/handle.h"
#include "relay/base/result.h"


namespace tw::http {

struct HttpRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  std::string authorization;  ///< The Authorization header, or empty.
  std::string origin;         ///< The Origin header (CORS), or empty.
  std::string body;
  bool bodyTooLarge = false;  ///< The body exceeded the limit and was cut.
  std::optional<IpAddress> peer;
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  /// Extra response headers (CORS, WWW-Authenticate, ...).
  std::vector<std::pair<std::string, std::string>> headers{};
};

/// How a listener is run. The defaults suit the loopback metrics and admin
/// listeners; a public one raises the connection limit.
struct HttpOptions {
  size_t maxBody = 64 * 1024;
  unsigned connectionLimit = 64;
  unsigned timeoutSeconds = 10;
  /// Bytes MHD may use per connection; request headers beyond it get 431.
  size_t connectionMemory = 32 * 1024;
  /// PEM text (not paths): both set = HTTPS through libmicrohttpd's TLS.
  std::string certPem;
  std::string keyPem;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  /// Listens on `listen` (port 0 picks a free port; see address()).
  static Result<std::unique_ptr<HttpServer>, std::string> start(const SocketAddress& listen,
                                                                HttpHandler handler,
                                                                size_t maxBody = 64 * 1024);
  static Result<std::unique_ptr<HttpServer>, std::string> start(const SocketAddress& listen,
                                                                HttpHandler handler,
                                                                const HttpOptions& options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// The bound address (port resolved).
  const SocketAddress& address() const { return bound_; }
  /// Used by the MHD callback.
  HttpResponse handle(const HttpRequest& req) const { return handler_(req); }
  size_t maxBody() const { return maxBody_; }

 private:
  HttpServer(HttpHandler handler, size_t maxBody) : handler_(std::move(handler)), maxBody_(maxBody) {}

  HttpHandler handler_;
  size_t maxBody_;
  Handle<MHD_Daemon, MHD_stop_daemon> daemon_;  ///< stopped (threads joined) first
  SocketAddress bound_;
};

/// {"error": message} with the message JSON-escaped.
HttpResponse jsonError(int status, std::string_view message);

}  // namespace tw::http
