#include "relay/http/http_server.h"

#include <microhttpd.h>
#include <sys/socket.h>

#include <cstring>

#include "relay/base/json.h"

namespace tw::http {

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

MHD_Result send(MHD_Connection* conn, const HttpResponse& r) {
  const Handle<MHD_Response, MHD_destroy_response> owned(MHD_create_response_from_buffer(
      r.body.size(), const_cast<char*>(r.body.data()), MHD_RESPMEM_MUST_COPY));
  MHD_Response* resp = owned.get();
  if (!resp) return MHD_NO;
  MHD_add_response_header(resp, "Content-Type", r.contentType.c_str());
  MHD_add_response_header(resp, "Cache-Control", "no-store");
  for (const auto& [name, value] : r.headers) MHD_add_response_header(resp, name.c_str(), value.c_str());
  return MHD_queue_response(conn, static_cast<unsigned>(r.status), resp);
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
  const auto* info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info && info->client_addr)
    if (auto sa = SocketAddress::fromSockaddr(info->client_addr)) p->req.peer = sa->ip;
  return p;
}

MHD_Result onAccess(void* cls, MHD_Connection* conn, const char* url, const char* method,
                    const char*, const char* data, size_t* size, void** state) {
  auto* server = static_cast<HttpServer*>(cls);
  if (!*state) {
    *state = begin(conn, url, method);
    return MHD_YES;
  }
  auto* p = static_cast<Pending*>(*state);
  if (*size > 0) {  // a body chunk: keep up to the limit, then only note the excess
    if (p->req.body.size() + *size > server->maxBody()) p->req.bodyTooLarge = true;
    else p->req.body.append(data, *size);
    *size = 0;
    return MHD_YES;
  }
  if (p->req.bodyTooLarge) return send(conn, jsonError(400, "request body too large"));
  return send(conn, server->handle(p->req));
}

void onCompleted(void*, MHD_Connection*, void** state, MHD_RequestTerminationCode) {
  delete static_cast<Pending*>(*state);
  *state = nullptr;
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
                                                                   HttpHandler handler,
                                                                   size_t maxBody) {
  HttpOptions options;
  options.maxBody = maxBody;
  return start(listen, std::move(handler), options);
}

Result<std::unique_ptr<HttpServer>, std::string> HttpServer::start(const SocketAddress& listen,
                                                                   HttpHandler handler,
                                                                   const HttpOptions& o) {
  const bool tls = !o.certPem.empty() && !o.keyPem.empty();
  if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
    return err("cannot serve HTTPS on " + listen.toString() + ": libmicrohttpd was built without TLS");
  std::unique_ptr<HttpServer> s(new HttpServer(std::move(handler), o.maxBody));
  sockaddr_storage ss{};
  listen.toSockaddr(ss);
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
  if (listen.ip.family() == Family::V6) flags |= MHD_USE_IPv6;
  if (tls) flags |= MHD_USE_TLS;
  std::vector<MHD_OptionItem> opts{
      {MHD_OPTION_SOCK_ADDR, 0, &ss},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&onCompleted), nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, intptr_t(o.connectionLimit), nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, intptr_t(o.timeoutSeconds), nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, intptr_t(o.connectionMemory), nullptr}};
  if (tls) {
    opts.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(o.keyPem.c_str())});
    opts.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(o.certPem.c_str())});
  }
  opts.push_back({MHD_OPTION_END, 0, nullptr});
  s->daemon_.reset(MHD_start_daemon(flags, listen.port, nullptr, nullptr, &onAccess, s.get(),
                                    MHD_OPTION_ARRAY, opts.data(), MHD_OPTION_END));
  if (!s->daemon_) return err("cannot listen on " + listen.toString() + (tls ? " (HTTPS)" : " (HTTP)"));
  auto bound = boundAddress(s->daemon_.get());
  s->bound_ = bound ? *bound : listen;
  return s;
}

HttpServer::~HttpServer() = default;

}  // namespace tw::http
