#pragma once
// A small HTTP server (libmicrohttpd, its own polling thread) for /metrics,
// health checks, the admin API and the credentials endpoint. Handlers run on
// MHD's thread: they must never touch worker state directly (use
// Worker::post()).
//
// Slow clients (docs/security.md, "HTTP listeners"): MHD's own timeout only
// fires on an idle connection, so a client that trickles one header line
// every few seconds would hold its slot forever. Each server therefore
//  - caps connections per client address (MHD_OPTION_PER_IP_CONNECTION_LIMIT)
//    below the total (MHD_OPTION_CONNECTION_LIMIT), so one address cannot
//    fill the listener;
//  - gives every request a deadline, headers, body and answer together,
//    counted from the accept (or from the end of the previous request on a
//    kept-alive connection). A sweeper thread shuts down (shutdown(2)) the
//    socket of a connection past its deadline; MHD then sees the end of the
//    stream and closes and frees it on its own thread. The sweeper holds the
//    table lock while it does so, and MHD tells us a connection is closed
//    (MHD_CONNECTION_NOTIFY_CLOSED, same lock) before it closes the
//    descriptor, so a descriptor number is never shut down after reuse.
// HTTPS goes through libmicrohttpd's TLS (GnuTLS in Debian's build) with
// the TURN TLS listener's policy: TLS 1.2 and 1.3, ECDHE with AEAD suites.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "relay/base/address.h"
#include "relay/base/result.h"

struct MHD_Daemon;

namespace tw::http {

struct HttpRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  std::string authorization;  ///< The Authorization header, or empty.
  std::string origin;         ///< The Origin header (CORS), or empty.
  /// Forwarded / X-Forwarded-For, every line joined with ", " (empty when
  /// absent). Only a trusted proxy's are believed (client_address.h).
  std::string forwarded;
  std::string xForwardedFor;
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
  /// Connections one client address may hold at once; must be below
  /// connectionLimit (0 = connectionLimit / 2).
  unsigned connectionsPerIp = 0;
  /// Idle time after which MHD closes a connection.
  unsigned timeoutSeconds = 10;
  /// The whole request (headers, body, answer) must be done in this time.
  std::chrono::milliseconds requestDeadline = std::chrono::seconds(10);
  /// Bytes MHD may use per connection; request headers beyond it get 431.
  size_t connectionMemory = 32 * 1024;
  /// HTTPS: certPem and keyPem must then parse and match, or start() fails.
  /// Also implied by either PEM being non-empty; never a fall back to HTTP.
  bool https = false;
  /// PEM text (not paths).
  std::string certPem;
  std::string keyPem;
  /// Told (from the sweeper thread) how many connections were closed for
  /// running past the deadline, at most once per sweep; may be empty.
  std::function<void(const std::string&)> warn;
};

/// The GnuTLS priority string of every HTTPS listener: the policy of
/// relay/io/tls_context.cc in GnuTLS words.
extern const char* const kHttpsPriorities;

class DeadlineSweeper;

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
  /// Connections closed so far for running past the request deadline.
  uint64_t deadlineClosures() const;
  /// Used by the MHD callbacks.
  DeadlineSweeper& sweeper() { return *sweeper_; }

 private:
  HttpServer(HttpHandler handler, size_t maxBody);

  HttpHandler handler_;
  size_t maxBody_;
  std::unique_ptr<DeadlineSweeper> sweeper_;
  MHD_Daemon* daemon_ = nullptr;
  SocketAddress bound_;
};

/// {"error": message} with the message JSON-escaped.
HttpResponse jsonError(int status, std::string_view message);

}  // namespace tw::http
