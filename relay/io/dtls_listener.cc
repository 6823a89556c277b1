#include "relay/io/dtls_listener.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "relay/base/crypto.h"
#include "relay/base/openssl_handles.h"
#include "relay/io/tls_handles.h"
#include "relay/io/udp_socket.h"

namespace tw::io {
namespace {

constexpr size_t kCookieBytes = 20;
constexpr int64_t kCookieSlotMs = 60000;  // a cookie is good for 1-2 minutes
constexpr int kReadsPerWake = 64;
// Largest datagram we send (handshake flights are cut into records that fit):
// what WebRTC stacks use, safely inside the IPv6 minimum MTU of 1280. Memory
// BIOs cannot query the path MTU, and without this a flight with a certificate
// chain left as one multi-kilobyte datagram, IP-fragmented on real paths.
constexpr long kMtu = 1200;
constexpr size_t kRecordHeader = 13;  // type, version, epoch, sequence, length

/// An SSL with memory BIOs: datagrams are written into rbio, and records
/// the SSL produces are read out of wbio and sent with sendto.
SslPtr newMemorySsl(SSL_CTX* ctx) {
  SslPtr ssl(SSL_new(ctx));
  if (!ssl) return ssl;
  BIO* rb = BIO_new(BIO_s_mem());
  BIO* wb = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rb, -1);
  BIO_set_mem_eof_return(wb, -1);
  SSL_set_bio(ssl.get(), rb, wb);
  SSL_set_options(ssl.get(), SSL_OP_NO_QUERY_MTU);  // kept across DTLSv1_listen's SSL_clear
  SSL_set_mtu(ssl.get(), kMtu);
  return ssl;
}

/// Bytes of the DTLS record starting at `at` (header included), or the rest
/// of `out` when the header is cut short.
size_t recordSize(std::span<const uint8_t> out, size_t at) {
  const size_t rest = out.size() - at;
  if (rest < kRecordHeader) return rest;
  const size_t body = (static_cast<size_t>(out[at + 11]) << 8) | out[at + 12];
  return std::min(rest, kRecordHeader + body);
}

/// Sends from the address the session's client sent to (a wildcard
/// listener's socket would otherwise pick the host's primary address).
void sendDatagram(int fd, const FiveTuple& tuple, bool wildcard, std::span<const uint8_t> bytes) {
  sendDatagramFrom(fd, tuple.client, wildcard ? std::optional(tuple.server.ip) : std::nullopt, bytes);
}

/// SSL_get_error() reads this thread's OpenSSL error queue: an entry left
/// there by another session (a handshake that failed, SSL_shutdown of one
/// still in its handshake, a TLS connection on the same worker) turns a
/// healthy session's "want more data" into SSL_ERROR_SSL, and that session
/// was closed, mid-allocation (a flake seen with turnutils_uclient, whose
/// DTLS 1.0 attempts the server refuses). So every SSL call here starts with
/// an empty queue, as SSL_get_error(3) requires, and no failure is left in it.
void clearSslErrors() { ERR_clear_error(); }

}  // namespace

/// Also the SSL's app data: the cookie callbacks find the listener (its
/// cookie key and clock) and the client address here, because the SSL_CTX
/// is shared by every worker's listener and cannot point at one of them.
struct DtlsListener::Session {
  DtlsListener* owner = nullptr;
  FiveTuple tuple;
  SslPtr ssl;
  Instant created;
  Instant lastActive;
  bool established = false;
};

DtlsListener::DtlsListener(event_base* base, Clock& clock, Random& rng, Logger& log,
                           OnFrame onFrame, OnClosed onClosed)
    : base_(base), clock_(clock), log_(log), onFrame_(std::move(onFrame)),
      onClosed_(std::move(onClosed)) {
  rng.fill(cookieKey_);  // per process, from the CSPRNG
}

DtlsListener::~DtlsListener() { sessions_.clear(); }

Result<SharedSslCtx, std::string> DtlsListener::makeContext(const std::string& cert,
                                                             const std::string& key) {
  auto ctx = makeServerDtlsContext(cert, key);
  if (!ctx) return err(ctx.error());
  SSL_CTX_set_cookie_generate_cb(ctx->get(), &DtlsListener::generateCookie);
  SSL_CTX_set_cookie_verify_cb(ctx->get(), &DtlsListener::verifyCookie);
  return SharedSslCtx(std::move(ctx.value()));
}

Status<std::string> DtlsListener::listen(const SocketAddress& local, SharedSslCtx ctx,
                                         const StreamLimits& limits) {
  limits_ = limits;
  ctx_ = std::move(ctx);
  auto fd = openUdpSocket(local, /*reusePort=*/true);
  if (!fd) return err("cannot bind dtls " + local.toString() + ": " + std::strerror(fd.error()));
  fd_ = std::move(fd.value());
  local_ = localAddress(fd_.get()).value_or(local);
  if (local_.ip.isUnspecified()) enableDestinationInfo(fd_.get(), local_.ip.family());
  ev_.reset(event_new(base_, fd_.get(), EV_READ | EV_PERSIST, &DtlsListener::onReadable, this));
  event_add(ev_.get(), nullptr);
  return {};
}

void DtlsListener::cookieFor(const SocketAddress& client, uint64_t slot,
                             std::array<uint8_t, 32>& out) const {
  std::array<uint8_t, 26> msg{};
  for (int i = 0; i < 8; ++i) msg[i] = static_cast<uint8_t>(slot >> (8 * i));
  std::memcpy(msg.data() + 8, client.ip.bytes().data(), 16);
  msg[24] = static_cast<uint8_t>(client.port >> 8);
  msg[25] = static_cast<uint8_t>(client.port);
  out = hmacSha256(cookieKey_, msg);
}

int DtlsListener::generateCookie(SSL* ssl, unsigned char* cookie, unsigned int* len) {
  const auto* s = static_cast<const Session*>(SSL_get_app_data(ssl));
  if (!s) return 0;
  const DtlsListener* self = s->owner;
  std::array<uint8_t, 32> mac;
  self->cookieFor(s->tuple.client, static_cast<uint64_t>(self->clock_.now().time_since_epoch().count()) / kCookieSlotMs, mac);
  std::memcpy(cookie, mac.data(), kCookieBytes);
  *len = kCookieBytes;
  return 1;
}

int DtlsListener::verifyCookie(SSL* ssl, const unsigned char* cookie, unsigned int len) {
  const auto* s = static_cast<const Session*>(SSL_get_app_data(ssl));
  if (!s || len != kCookieBytes) return 0;
  const DtlsListener* self = s->owner;
  const uint64_t slot = static_cast<uint64_t>(self->clock_.now().time_since_epoch().count()) / kCookieSlotMs;
  for (uint64_t at : {slot, slot - 1}) {
    std::array<uint8_t, 32> mac;
    self->cookieFor(s->tuple.client, at, mac);
    if (constantTimeEqual(Bytes(mac.data(), kCookieBytes), Bytes(cookie, len))) return 1;
  }
  return 0;
}

void DtlsListener::onReadable(evutil_socket_t fd, short, void* arg) {
  auto* self = static_cast<DtlsListener*>(arg);
  std::vector<uint8_t> buf(65536);
  const bool wildcard = self->local_.ip.isUnspecified();
  for (int i = 0; i < kReadsPerWake; ++i) {
    sockaddr_storage ss;
    iovec iov{buf.data(), buf.size()};
    alignas(cmsghdr) std::array<uint8_t, kControlBytes> control;
    msghdr msg{};
    msg.msg_name = &ss;
    msg.msg_namelen = sizeof ss;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) return;
    auto src = SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
    SocketAddress dst = self->local_;
    if (wildcard) {
      auto ip = packetDestination(msg);
      if (!ip) continue;  // never answer from the wildcard
      dst.ip = *ip;
    }
    if (src) self->onDatagram(*src, dst, std::span(buf.data(), static_cast<size_t>(n)));
  }
}

void DtlsListener::onDatagram(const SocketAddress& src, const SocketAddress& dst,
                              std::span<const uint8_t> bytes) {
  auto it = sessions_.find(src);
  if (it == sessions_.end()) return admit(src, dst, bytes);
  Session& s = *it->second;
  s.lastActive = clock_.now();
  BIO_write(SSL_get_rbio(s.ssl.get()), bytes.data(), static_cast<int>(bytes.size()));
  drive(s);
}

void DtlsListener::admit(const SocketAddress& src, const SocketAddress& dst,
                         std::span<const uint8_t> bytes) {
  // Stateless: this SSL lives only for this datagram unless the cookie checks out.
  SslPtr ssl = newMemorySsl(ctx_.get());
  if (!ssl) return;
  BIO_write(SSL_get_rbio(ssl.get()), bytes.data(), static_cast<int>(bytes.size()));
  SSL_set_options(ssl.get(), SSL_OP_COOKIE_EXCHANGE);
  clearSslErrors();
  auto session = std::make_unique<Session>();
  session->owner = this;
  session->tuple = FiveTuple{src, dst, Transport::Dtls};
  // The cookie callbacks find this listener and the client address here
  // (also during the handshake that follows, which checks the cookie again).
  SSL_set_app_data(ssl.get(), session.get());
  const int r = DTLSv1_listen(ssl.get(), BioAddrPtr(BIO_ADDR_new()).get());
  clearSslErrors();  // a datagram DTLSv1_listen refused (not a ClientHello) leaves its reason
  session->ssl = std::move(ssl);
  if (r != 1) {
    if (BIO_ctrl_pending(SSL_get_wbio(session->ssl.get())) > 0) ++stats_.cookiesSent;
    flush(*session);
    return;
  }
  if (sessionsFrom(src.ip) >= limits_.maxConnectionsPerIp) {
    ++stats_.rejectedPerIp;
    return;
  }
  session->created = session->lastActive = clock_.now();
  ++stats_.sessions;
  Session& s = *session;
  sessions_.emplace(src, std::move(session));
  drive(s);
}

void DtlsListener::drive(Session& s) {
  SSL* ssl = s.ssl.get();
  if (!s.established) {
    clearSslErrors();
    const int r = SSL_do_handshake(ssl);
    if (r != 1) {
      const int e = SSL_get_error(ssl, r);
      flush(s);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        log_.debug("dtls: handshake with " + s.tuple.client.toString() + " failed: " + lastSslError());
        close(s.tuple.client, &DtlsStats::closedByPeer);
      }
      return;
    }
    s.established = true;
  }
  std::array<uint8_t, 4096> buf;
  const FiveTuple tuple = s.tuple;
  for (;;) {
    clearSslErrors();  // onFrame may have run SSL calls for other sessions
    const int n = SSL_read(ssl, buf.data(), static_cast<int>(buf.size()));
    if (n > 0) {
      onFrame_(tuple, std::span(buf.data(), static_cast<size_t>(n)));
      if (!sessions_.count(tuple.client)) return;
      continue;
    }
    const int e = SSL_get_error(ssl, n);
    flush(s);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      log_.debug("dtls: session with " + tuple.client.toString() + " ended: " +
                 (e == SSL_ERROR_ZERO_RETURN ? std::string("close_notify") : lastSslError()));
      close(tuple.client, &DtlsStats::closedByPeer);
    }
    return;
  }
}

void DtlsListener::flush(Session& s) {
  // The memory BIO holds every record written since the last flush, back to
  // back: pack whole records into datagrams of at most kMtu bytes (a single
  // larger application-data record goes alone).
  BIO* wb = SSL_get_wbio(s.ssl.get());
  std::vector<uint8_t> out(BIO_ctrl_pending(wb));
  if (out.empty()) return;
  const int n = BIO_read(wb, out.data(), static_cast<int>(out.size()));
  if (n <= 0) return;
  out.resize(static_cast<size_t>(n));
  const bool wildcard = local_.ip.isUnspecified();
  size_t start = 0;
  for (size_t at = 0; at < out.size();) {
    const size_t rec = recordSize(out, at);
    if (at > start && at + rec - start > static_cast<size_t>(kMtu)) {
      sendDatagram(fd_.get(), s.tuple, wildcard, std::span(out).subspan(start, at - start));
      start = at;
    }
    at += rec;
  }
  sendDatagram(fd_.get(), s.tuple, wildcard, std::span(out).subspan(start));
}

bool DtlsListener::send(const FiveTuple& tuple, std::span<const uint8_t> bytes) {
  auto it = sessions_.find(tuple.client);
  if (it == sessions_.end() || !it->second->established) return false;
  clearSslErrors();
  const int n = SSL_write(it->second->ssl.get(), bytes.data(), static_cast<int>(bytes.size()));
  clearSslErrors();
  flush(*it->second);
  return n > 0;
}

void DtlsListener::close(const SocketAddress& client, uint64_t DtlsStats::*counter) {
  auto it = sessions_.find(client);
  if (it == sessions_.end()) return;
  ++(stats_.*counter);
  const FiveTuple tuple = it->second->tuple;
  SSL_shutdown(it->second->ssl.get());
  clearSslErrors();  // "shutdown while in init" for a session closed mid-handshake
  flush(*it->second);
  sessions_.erase(it);
  onClosed_(tuple);
}

size_t DtlsListener::sessionsFrom(const IpAddress& ip) const {
  size_t n = 0;
  for (const auto& [addr, s] : sessions_) n += addr.ip == ip ? 1 : 0;
  return n;
}

void DtlsListener::sweep(const HasAllocation& hasAllocation) {
  const Instant now = clock_.now();
  std::vector<std::pair<SocketAddress, uint64_t DtlsStats::*>> doomed;
  for (auto& [addr, s] : sessions_) {
    if (!s->established && now - s->created >= limits_.handshakeTimeout) {
      doomed.emplace_back(addr, &DtlsStats::closedHandshakeTimeout);
    } else if (now - s->lastActive >= limits_.idleTimeout && !hasAllocation(s->tuple)) {
      doomed.emplace_back(addr, &DtlsStats::closedIdle);
    } else if (!s->established && (clearSslErrors(), DTLSv1_handle_timeout(s->ssl.get())) > 0) {
      flush(*s);  // retransmitted flight
    }
  }
  for (const auto& [addr, counter] : doomed) close(addr, counter);
}

void DtlsListener::closeSessions() {
  std::vector<SocketAddress> clients;
  for (const auto& [addr, s] : sessions_) clients.push_back(addr);
  for (const auto& c : clients) close(c, &DtlsStats::closedRemoved);
}

}  // namespace tw::io
