#include "relay/http/http_server.h"

#include <microhttpd.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "relay/base/json.h"
#include "relay/base/pem.h"

namespace tw::http {

// TLS 1.2 and 1.3 only; for TLS 1.2 ECDHE key exchange with AES-GCM or
// ChaCha20-Poly1305 (AEAD, so no CBC and no SHA-1 MAC), server preference:
// the list relay/io/tls_context.cc gives OpenSSL for the TURN listener.
const char* const kHttpsPriorities =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE";

/// The per-request deadline (see http_server.h): the open connections, each
/// with its socket and when it is due, and the thread that shuts down the
/// overdue ones.
class DeadlineSweeper {
 public:
  using SteadyClock = std::chrono::steady_clock;

  DeadlineSweeper(std::chrono::milliseconds deadline, std::function<void(const std::string&)> warn)
      : deadline_(deadline), warn_(std::move(warn)) {}
  ~DeadlineSweeper() { stop(); }
  DeadlineSweeper(const DeadlineSweeper&) = delete;
  DeadlineSweeper& operator=(const DeadlineSweeper&) = delete;

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void opened(const MHD_Connection* c, int fd) {
    std::lock_guard lock(mu_);
    open_[c] = Entry{fd, SteadyClock::now() + deadline_, false};
  }
  /// A request ended: the next one on this connection gets a fresh deadline.
  void restarted(const MHD_Connection* c) {
    std::lock_guard lock(mu_);
    if (auto it = open_.find(c); it != open_.end() && !it->second.shut)
      it->second.due = SteadyClock::now() + deadline_;
  }
  /// Called before MHD closes the descriptor.
  void closed(const MHD_Connection* c) {
    std::lock_guard lock(mu_);
    open_.erase(c);
  }
  uint64_t closures() const { return closures_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    int fd;
    SteadyClock::time_point due;
    bool shut;
  };

  void run() {
    const auto tick = std::clamp<std::chrono::milliseconds>(deadline_ / 4, std::chrono::milliseconds(50),
                                                            std::chrono::seconds(1));
    std::unique_lock lock(mu_);
    while (!stopping_) {
      wake_.wait_for(lock, tick);
      if (stopping_) break;
      const size_t n = sweep(SteadyClock::now());
      if (n == 0 || !warn_) continue;
      lock.unlock();
      warn_("http: closed " + std::to_string(n) + " connection(s) still sending or reading a request after " +
            std::to_string(deadline_.count()) + " ms (request deadline)");
      lock.lock();
    }
  }

  /// With mu_ held.
  size_t sweep(SteadyClock::time_point now) {
    size_t n = 0;
    for (auto& [conn, e] : open_) {
      if (e.shut || now < e.due) continue;
      ::shutdown(e.fd, SHUT_RDWR);
      e.shut = true;
      ++n;
    }
    closures_.fetch_add(n, std::memory_order_relaxed);
    return n;
  }

  const std::chrono::milliseconds deadline_;
  const std::function<void(const std::string&)> warn_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::unordered_map<const MHD_Connection*, Entry> open_;
  std::atomic<uint64_t> closures_{0};
  std::thread thread_;
};

namespace {

/// Per-connection state while a request body arrives.
struct Pending {
  HttpRequest req;
};

MHD_Result collectArg(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* req = static_cast<HttpRequest*>(cls);
  if (key) req->query[key] = value ? value : "";
  return MHD_YES;
}

/// Every Forwarded and X-Forwarded-For line, in order, joined with ", " (a
/// proxy may add a line of its own instead of extending the last one).
MHD_Result collectForwarded(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* req = static_cast<HttpRequest*>(cls);
  if (!key || !value) return MHD_YES;
  std::string* into = strcasecmp(key, "Forwarded") == 0         ? &req->forwarded
                      : strcasecmp(key, "X-Forwarded-For") == 0 ? &req->xForwardedFor
                                                                : nullptr;
  if (into) *into += (into->empty() ? "" : ", ") + std::string(value);
  return MHD_YES;
}

MHD_Result send(MHD_Connection* conn, const HttpResponse& r) {
  MHD_Response* resp =
      MHD_create_response_from_buffer(r.body.size(), const_cast<char*>(r.body.data()), MHD_RESPMEM_MUST_COPY);
  if (!resp) return MHD_NO;
  MHD_add_response_header(resp, "Content-Type", r.contentType.c_str());
  MHD_add_response_header(resp, "Cache-Control", "no-store");
  for (const auto& [name, value] : r.headers) MHD_add_response_header(resp, name.c_str(), value.c_str());
  const MHD_Result ok = MHD_queue_response(conn, static_cast<unsigned>(r.status), resp);
  MHD_destroy_response(resp);
  return ok;
}

Pending* begin(MHD_Connection* conn, const char* url, const char* method) {
  auto* p = new Pending;
  p->req.method = method;
  p->req.path = url;
  MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collectArg, &p->req);
  if (const char* auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"))
    p->req.authorization = auth;
  if (const char* origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin"))
    p->req.origin = origin;
  MHD_get_connection_values(conn, MHD_HEADER_KIND, collectForwarded, &p->req);
  const auto* info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info && info->client_addr)
    if (auto sa = SocketAddress::fromSockaddr(info->client_addr)) p->req.peer = sa->ip;
  return p;
}

MHD_Result onAccess(void* cls, MHD_Connection* conn, const char* url, const char* method, const char*,
                    const char* data, size_t* size, void** state) {
  auto* server = static_cast<HttpServer*>(cls);
  if (!*state) {
    *state = begin(conn, url, method);
    return MHD_YES;
  }
  auto* p = static_cast<Pending*>(*state);
  if (*size > 0) {  // a body chunk: keep up to the limit, then only note the excess
    if (p->req.body.size() + *size > server->maxBody())
      p->req.bodyTooLarge = true;
    else
      p->req.body.append(data, *size);
    *size = 0;
    return MHD_YES;
  }
  if (p->req.bodyTooLarge) return send(conn, jsonError(400, "request body too large"));
  return send(conn, server->handle(p->req));
}

void onCompleted(void* cls, MHD_Connection* conn, void** state, MHD_RequestTerminationCode) {
  delete static_cast<Pending*>(*state);
  *state = nullptr;
  static_cast<HttpServer*>(cls)->sweeper().restarted(conn);
}

void onConnection(void* cls, MHD_Connection* conn, void**, MHD_ConnectionNotificationCode code) {
  auto& sweeper = static_cast<HttpServer*>(cls)->sweeper();
  if (code == MHD_CONNECTION_NOTIFY_CLOSED) return sweeper.closed(conn);
  const auto* info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (info) sweeper.opened(conn, info->connect_fd);
}

/// Checks the options start() cannot serve safely; the error says why.
std::optional<std::string> optionsProblem(const SocketAddress& listen, const HttpOptions& o, bool tls) {
  if (o.connectionsPerIp >= o.connectionLimit)
    return "connections per address (" + std::to_string(o.connectionsPerIp) + ") must be below the total (" +
           std::to_string(o.connectionLimit) + ")";
  if (o.requestDeadline.count() <= 0) return std::string("the request deadline must be positive");
  if (!tls) return std::nullopt;
  if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
    return "cannot serve HTTPS on " + listen.toString() + ": libmicrohttpd was built without TLS";
  if (auto bad = pemPairProblem(o.certPem, o.keyPem))
    return "cannot serve HTTPS on " + listen.toString() + ": the " +
           (bad->at == PemProblemAt::Cert ? "certificate " : "private key ") + bad->message;
  return std::nullopt;
}

std::optional<SocketAddress> boundAddress(MHD_Daemon* d) {
  const auto* info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
  if (!info) return std::nullopt;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(info->listen_fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  return SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&ss));
}

}  // namespace

HttpResponse jsonError(int status, std::string_view message) {
  return HttpResponse{status, "application/json", "{\"error\":" + jsonString(message) + "}\n"};
}

Result<std::unique_ptr<HttpServer>, std::string> HttpServer::start(const SocketAddress& listen,
                                                                   HttpHandler handler, size_t maxBody) {
  HttpOptions options;
  options.maxBody = maxBody;
  return start(listen, std::move(handler), options);
}

HttpServer::HttpServer(HttpHandler handler, size_t maxBody)
    : handler_(std::move(handler)), maxBody_(maxBody) {}

uint64_t HttpServer::deadlineClosures() const { return sweeper_->closures(); }

Result<std::unique_ptr<HttpServer>, std::string> HttpServer::start(const SocketAddress& listen,
                                                                   HttpHandler handler,
                                                                   const HttpOptions& options) {
  HttpOptions o = options;
  if (o.connectionsPerIp == 0) o.connectionsPerIp = std::max(1u, o.connectionLimit / 2);
  const bool tls = o.https || !o.certPem.empty() || !o.keyPem.empty();
  if (auto problem = optionsProblem(listen, o, tls)) return err(*problem);
  std::unique_ptr<HttpServer> s(new HttpServer(std::move(handler), o.maxBody));
  s->sweeper_ = std::make_unique<DeadlineSweeper>(o.requestDeadline, o.warn);
  sockaddr_storage ss{};
  listen.toSockaddr(ss);
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
  if (listen.ip.family() == Family::V6) flags |= MHD_USE_IPv6;
  if (tls) flags |= MHD_USE_TLS;
  std::vector<MHD_OptionItem> opts{
      {MHD_OPTION_SOCK_ADDR, 0, &ss},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&onCompleted), s.get()},
      {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&onConnection), s.get()},
      {MHD_OPTION_CONNECTION_LIMIT, intptr_t(o.connectionLimit), nullptr},
      {MHD_OPTION_PER_IP_CONNECTION_LIMIT, intptr_t(o.connectionsPerIp), nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, intptr_t(o.timeoutSeconds), nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, intptr_t(o.connectionMemory), nullptr}};
  if (tls) {
    opts.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(o.keyPem.c_str())});
    opts.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(o.certPem.c_str())});
    opts.push_back({MHD_OPTION_HTTPS_PRIORITIES, 0, const_cast<char*>(kHttpsPriorities)});
  }
  opts.push_back({MHD_OPTION_END, 0, nullptr});
  s->daemon_ = MHD_start_daemon(flags, listen.port, nullptr, nullptr, &onAccess, s.get(), MHD_OPTION_ARRAY,
                                opts.data(), MHD_OPTION_END);
  if (!s->daemon_) return err("cannot listen on " + listen.toString() + (tls ? " (HTTPS)" : " (HTTP)"));
  auto bound = boundAddress(s->daemon_);
  s->bound_ = bound ? *bound : listen;
  s->sweeper_->start();
  return s;
}

HttpServer::~HttpServer() {
  if (daemon_) MHD_stop_daemon(daemon_);  // its CLOSED notifications still reach the sweeper
  sweeper_.reset();
}

}  // namespace tw::http
