#include "relay/io/stream_connections.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "relay/io/stream_framer.h"
#include "relay/io/udp_socket.h"
#include "relay/stun/proxy_header.h"

namespace tw::io {
namespace {

constexpr int kBacklog = 1024;
constexpr size_t kReadChunk = 4096;
/// Bytes a peer not expected to send a header is peeked for: both signatures.
constexpr size_t kSignaturePeek = 12;
/// PROXY refusals logged per second; the rest are counted and reported.
constexpr uint32_t kRefusalLinesPerSecond = 10;

}  // namespace

struct StreamConnections::Listener {
  StreamConnections* owner;
  SocketAddress local;
  Transport transport;
  SharedSslCtx tls;  ///< shared with this listener's socket on the other workers
  ListenerPtr ev;
  bool proxyProtocol = false;  ///< Trusted proxies must send a PROXY header.
  bool paused = false;         ///< After an accept error, until the next sweep.
};

/// An accepted socket waiting for its first bytes: the PROXY header of a
/// trusted proxy (read here, up to its last byte), or a peek at a TLS
/// client's (or a proxy_protocol listener's direct client's) first bytes for
/// a PROXY signature it may not send. No bufferevent yet.
struct StreamConnections::Pending {
  StreamConnections* owner;
  UniqueFd fd;
  SocketAddress peer;
  SocketAddress local;
  Transport transport;
  SharedSslCtx tls;
  bool expectHeader;  ///< A trusted proxy on a proxy_protocol listener.
  Instant created;
  std::vector<uint8_t> header;  ///< Header bytes consumed so far.
  EventPtr ev;
};

struct StreamConnections::Connection {
  Connection(StreamConnections* o, FiveTuple t, size_t maxFrame, Instant now)
      : owner(o), tuple(t), framer(maxFrame), created(now), lastActive(now) {}
  StreamConnections* owner;
  FiveTuple tuple;
  StreamFramer framer;
  Instant created;
  Instant lastActive;
  bool established = false;  ///< TCP: at accept; TLS: after the handshake.
  bool reading = false;      ///< Inside readFrom: a hand-over waits for it.
  bool sawBytes = false;     ///< Its first bytes were checked for a PROXY signature.
  OnHandOver handOver;       ///< Set by handOver(); done after the frame.
  BufferEventPtr bev;
};

StreamConnections::StreamConnections(event_base* base, Clock& clock, Logger& log, OnFrame onFrame,
                                     OnClosed onClosed)
    : base_(base), clock_(clock), log_(log), onFrame_(std::move(onFrame)), onClosed_(std::move(onClosed)) {}

StreamConnections::~StreamConnections() {
  // No callbacks on teardown: the worker deletes allocations itself.
  pending_.clear();
  conns_.clear();
  listeners_.clear();
}

Result<SocketAddress, std::string> StreamConnections::listen(const SocketAddress& local, SharedSslCtx tls,
                                                             bool proxyProtocol) {
  auto l = std::make_unique<Listener>();
  l->owner = this;
  l->proxyProtocol = proxyProtocol;
  l->transport = tls ? Transport::Tls : Transport::Tcp;
  l->tls = std::move(tls);
  l->ev = listenTcp(base_, local, &StreamConnections::onAccept, l.get(), kBacklog);
  if (!l->ev) {
    return err("cannot listen " + std::string(toString(l->transport)) + " " + local.toString() + ": " +
               std::strerror(errno));
  }
  l->local = localAddress(evconnlistener_get_fd(l->ev.get())).value_or(local);
  evconnlistener_set_error_cb(l->ev.get(), &StreamConnections::onAcceptError);
  const SocketAddress bound = l->local;
  listeners_.push_back(std::move(l));
  return bound;
}

bool StreamConnections::closeListener(const SocketAddress& local, bool proxyProtocol) {
  // Connections hold no pointer to their listener: only accept() uses it.
  const auto n = std::erase_if(
      listeners_, [&](const auto& l) { return l->local == local && l->proxyProtocol == proxyProtocol; });
  return n > 0;
}

size_t StreamConnections::connectionCount(Transport t) const {
  size_t n = 0;
  for (const auto& [tuple, c] : conns_) n += tuple.transport == t ? 1 : 0;
  for (const auto& [fd, p] : pending_) n += p->transport == t ? 1 : 0;
  return n;
}

bool StreamConnections::replaceTlsContext(const SocketAddress& local, SharedSslCtx tls) {
  for (auto& l : listeners_) {
    if (l->local != local || l->transport != Transport::Tls) continue;
    l->tls = std::move(tls);  // live SSLs hold their own reference to the old one
    return true;
  }
  return false;
}

SSL_CTX* StreamConnections::tlsContext(const SocketAddress& local) const {
  for (const auto& l : listeners_)
    if (l->local == local && l->transport == Transport::Tls) return l->tls.get();
  return nullptr;
}

std::vector<std::pair<SocketAddress, Transport>> StreamConnections::addresses() const {
  std::vector<std::pair<SocketAddress, Transport>> out;
  for (const auto& l : listeners_) out.emplace_back(l->local, l->transport);
  return out;
}

size_t StreamConnections::connectionsFrom(const IpAddress& ip) const {
  auto it = perIp_.find(ip);
  return it == perIp_.end() ? 0 : it->second;
}

void StreamConnections::onAccept(evconnlistener*, evutil_socket_t fd, sockaddr* sa, int, void* arg) {
  auto* l = static_cast<Listener*>(arg);
  auto client = SocketAddress::fromSockaddr(sa);
  if (!client) {
    ::close(fd);
    return;
  }
  l->owner->accept(*l, fd, *client);
}

void StreamConnections::onAcceptError(evconnlistener* ev, void* arg) {
  // Out of descriptors (EMFILE/ENFILE) or similar: pause accepting for a
  // second instead of spinning on a listener that stays readable; the tick
  // re-enables it.
  auto* l = static_cast<Listener*>(arg);
  const int e = EVUTIL_SOCKET_ERROR();
  l->owner->log_.warn("accept on " + l->local.toString() + " failed: " + evutil_socket_error_to_string(e) +
                      "; pausing this listener for a second");
  evconnlistener_disable(ev);
  l->paused = true;
  ++l->owner->stats_.acceptErrors;
}

void StreamConnections::accept(Listener& l, evutil_socket_t rawFd, const SocketAddress& client) {
  UniqueFd fd(rawFd);
  // A trusted proxy's connections count toward the client its header names.
  const bool expectHeader = l.proxyProtocol && limits_.trustedProxies.contains(client.ip);
  const FiveTuple tuple{client, l.local, l.transport};
  if (!expectHeader && (connectionsFrom(client.ip) >= limits_.maxConnectionsPerIp || conns_.count(tuple))) {
    ++stats_.rejectedPerIp;
    log_.debug("stream: refused " + client.toString() + ": per-IP connection cap");
    return;
  }
  evutil_make_socket_nonblocking(fd.get());
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ++stats_.accepted;
  if (!expectHeader) ++perIp_[client.ip];
  if (l.proxyProtocol || l.tls) return awaitFirstBytes(l, std::move(fd), client, expectHeader);
  open(l.local, nullptr, std::move(fd), client);
}

void StreamConnections::awaitFirstBytes(const Listener& l, UniqueFd fd, const SocketAddress& peer,
                                        bool expectHeader) {
  auto p = std::make_unique<Pending>(Pending{
      this, std::move(fd), peer, l.local, l.transport, l.tls, expectHeader, clock_.now(), {}, nullptr});
  p->ev.reset(event_new(base_, p->fd.get(), EV_READ | EV_PERSIST, &StreamConnections::onFirstBytes, p.get()));
  if (!p->ev || event_add(p->ev.get(), nullptr) != 0)
    return dropPending(*p, &StreamStats::acceptErrors, "no event");
  const int key = p->fd.get();
  pending_.emplace(key, std::move(p));
}

void StreamConnections::onFirstBytes(evutil_socket_t, short, void* arg) {
  auto* p = static_cast<Pending*>(arg);
  p->owner->firstBytes(*p);
}

void StreamConnections::firstBytes(Pending& p) {
  std::array<uint8_t, stun::kMaxProxyHeaderBytes> buf;
  const size_t want = p.expectHeader ? buf.size() - p.header.size() : kSignaturePeek;
  const ssize_t n = ::recv(p.fd.get(), buf.data(), want, MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n <= 0) return dropPending(p, &StreamStats::closedByPeer, "closed before its first bytes");
  const std::span<const uint8_t> peeked(buf.data(), static_cast<size_t>(n));
  if (p.expectHeader) return readProxyHeader(p, peeked);
  if (stun::startsWithProxySignature(peeked)) {
    ++stats_.proxyRefused;
    refused("stream: refused " + p.peer.toString() + " on " + p.local.toString() +
            ": PROXY header from an address not in trusted_proxies or on a listener without proxy_protocol");
    return dropPending(p, nullptr, "untrusted PROXY header");
  }
  start(p, std::move(p.fd), p.peer);
}

void StreamConnections::readProxyHeader(Pending& p, std::span<const uint8_t> peeked) {
  std::vector<uint8_t> seen = p.header;
  seen.insert(seen.end(), peeked.begin(), peeked.end());
  const stun::ProxyHeader h = stun::parseProxyHeader(seen);
  if (h.status == stun::ProxyStatus::Invalid) {
    ++stats_.proxyInvalid;
    refused("stream: closing " + p.peer.toString() + " on " + p.local.toString() +
            ": a trusted proxy must begin with a PROXY header (" + std::string(h.error) + ")");
    return dropPending(p, nullptr, "no valid PROXY header");
  }
  // NeedMore: every byte seen is header, so take them all; Complete: exactly
  // the header's, leaving the first STUN frame or TLS record in the socket.
  const size_t take = h.status == stun::ProxyStatus::Complete ? h.length - p.header.size() : peeked.size();
  std::array<uint8_t, stun::kMaxProxyHeaderBytes> sink;
  if (::recv(p.fd.get(), sink.data(), take, 0) != static_cast<ssize_t>(take))
    return dropPending(p, &StreamStats::closedByPeer, "read error in the PROXY header");
  if (h.status == stun::ProxyStatus::NeedMore) {
    p.header = std::move(seen);
    return;
  }
  ++stats_.proxied;
  const SocketAddress client = h.source.value_or(p.peer);  // LOCAL/UNKNOWN: the proxy itself
  log_.debug("stream: " + p.peer.toString() + " speaks for " + client.toString() + " (PROXY v" +
             std::to_string(h.version) + ")");
  const FiveTuple tuple{client, p.local, p.transport};
  if (connectionsFrom(client.ip) >= limits_.maxConnectionsPerIp || conns_.count(tuple)) {
    ++stats_.rejectedPerIp;
    log_.debug("stream: refused " + client.toString() + " via " + p.peer.toString() +
               ": per-IP connection cap");
    return dropPending(p, nullptr, "per-IP cap");
  }
  ++perIp_[client.ip];
  start(p, std::move(p.fd), client);
}

void StreamConnections::dropPending(Pending& p, uint64_t StreamStats::*counter, std::string_view why) {
  if (counter) ++(stats_.*counter);
  log_.debug("stream: closing " + p.peer.toString() + " (" + std::string(why) + ")");
  if (!p.expectHeader) releaseIp(p.peer.ip);
  const int key = p.fd.get();
  p.ev.reset();
  p.fd.reset();
  pending_.erase(key);  // frees p
}

void StreamConnections::start(const Pending& p, UniqueFd fd, SocketAddress client) {
  // p's socket is already in fd; the entry goes, then the connection opens.
  const SocketAddress local = p.local;
  SharedSslCtx tls = p.tls;
  pending_.erase(fd.get());
  open(local, tls.get(), std::move(fd), client);
}

void StreamConnections::open(const SocketAddress& local, SSL_CTX* tls, UniqueFd fd,
                             const SocketAddress& client) {
  const FiveTuple tuple{client, local, tls ? Transport::Tls : Transport::Tcp};
  bufferevent* bev = nullptr;
  if (tls) {
    SSL* ssl = SSL_new(tls);
    if (ssl) {
      bev = bufferevent_openssl_socket_new(base_, fd.get(), ssl, BUFFEREVENT_SSL_ACCEPTING,
                                           BEV_OPT_CLOSE_ON_FREE);
    }
    if (!bev && ssl) SSL_free(ssl);
  } else {
    bev = bufferevent_socket_new(base_, fd.get(), BEV_OPT_CLOSE_ON_FREE);
  }
  if (!bev) return releaseIp(client.ip);  // fd closes
  fd.release();                           // the bufferevent owns it now
  auto c = std::make_unique<Connection>(this, tuple, limits_.maxFrameBytes, clock_.now());
  c->bev.reset(bev);
  c->established = !tls;
  if (tls) bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  bufferevent_setcb(bev, &StreamConnections::onRead, nullptr, &StreamConnections::onEvent, c.get());
  bufferevent_enable(bev, EV_READ | EV_WRITE);
  conns_.emplace(tuple, std::move(c));
}

void StreamConnections::refused(const std::string& line) {
  const Instant now = clock_.now();
  if (now - refusedWindow_ >= std::chrono::seconds(1)) {
    if (refusedSuppressed_ > 0)
      log_.warn("stream: " + std::to_string(refusedSuppressed_) + " more PROXY refusals not logged");
    refusedWindow_ = now;
    refusedLogged_ = 0;
    refusedSuppressed_ = 0;
  }
  if (refusedLogged_ >= kRefusalLinesPerSecond) {
    ++refusedSuppressed_;
    return;
  }
  ++refusedLogged_;
  log_.warn(line);
}

void StreamConnections::onRead(bufferevent*, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  c->owner->readFrom(*c);
}

void StreamConnections::onEvent(bufferevent* bev, short what, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (what & BEV_EVENT_CONNECTED) {
    c->established = true;
    if (SSL* ssl = bufferevent_openssl_get_ssl(bev)) {
      c->owner->log_.debug("tls: " + c->tuple.client.toString() + " " + SSL_get_version(ssl) + " alpn=\"" +
                           negotiatedAlpn(ssl) + "\"");
    }
    return;
  }
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
    c->owner->close(*c, &StreamStats::closedByPeer, "closed");
  }
}

void StreamConnections::readFrom(Connection& c) {
  evbuffer* in = bufferevent_get_input(c.bev.get());
  c.lastActive = clock_.now();
  std::array<uint8_t, kReadChunk> chunk;
  const FiveTuple tuple = c.tuple;
  for (;;) {
    const int n = evbuffer_remove(in, chunk.data(), chunk.size());
    if (n <= 0) return;
    if (!c.sawBytes && refuseProxyHeader(c, std::span(chunk.data(), static_cast<size_t>(n)))) return;
    c.reading = true;
    auto st =
        c.framer.feed(std::span(chunk.data(), static_cast<size_t>(n)), [&](std::span<const uint8_t> frame) {
          onFrame_(tuple, frame);
          if (c.handOver) c.framer.stop();
        });
    c.reading = false;
    if (c.handOver) return finishHandOver(c);
    if (!st) {
      const bool big = st.error() == FrameError::TooLarge;
      return close(c, big ? &StreamStats::closedOversize : &StreamStats::closedDesync, toString(st.error()));
    }
  }
}

bool StreamConnections::refuseProxyHeader(Connection& c, std::span<const uint8_t> first) {
  // A header here came from a peer not trusted on a plain TCP listener, or
  // behind the one a trusted proxy sent (a client speaking for itself).
  c.sawBytes = true;
  if (!stun::startsWithProxySignature(first)) return false;
  refused("stream: refused " + c.tuple.client.toString() + " on " + c.tuple.server.toString() +
          ": a PROXY header that no trusted proxy sent");
  close(c, &StreamStats::proxyRefused, "untrusted PROXY header");
  return true;
}

void StreamConnections::close(Connection& c, uint64_t StreamStats::*counter, std::string_view why) {
  ++(stats_.*counter);
  const FiveTuple tuple = c.tuple;
  log_.debug("stream: closing " + tuple.client.toString() + " (" + std::string(why) + ")");
  forget(tuple);  // frees the bufferevent, closes the socket
  onClosed_(tuple);
}

void StreamConnections::releaseIp(const IpAddress& ip) {
  if (auto it = perIp_.find(ip); it != perIp_.end() && --it->second == 0) perIp_.erase(it);
}

void StreamConnections::forget(const FiveTuple& tuple) {
  releaseIp(tuple.client.ip);
  conns_.erase(tuple);
}

bool StreamConnections::handOver(const FiveTuple& tuple, OnHandOver take) {
  auto it = conns_.find(tuple);
  if (it == conns_.end() || !it->second->established) return false;
  it->second->handOver = std::move(take);
  if (!it->second->reading) finishHandOver(*it->second);
  return true;
}

void StreamConnections::finishHandOver(Connection& c) {
  HandedOver h{c.tuple, std::move(c.bev), c.framer.takeBuffered()};
  OnHandOver take = std::move(c.handOver);
  bufferevent_setcb(h.bev.get(), nullptr, nullptr, nullptr, nullptr);
  forget(h.tuple);
  take(std::move(h));
}

bool StreamConnections::send(const FiveTuple& tuple, std::span<const uint8_t> bytes) {
  auto it = conns_.find(tuple);
  if (it == conns_.end() || !it->second->established) return false;
  bufferevent* bev = it->second->bev.get();
  if (evbuffer_get_length(bufferevent_get_output(bev)) > limits_.outputHighWatermark) {
    ++stats_.backpressureDrops;
    return false;
  }
  if (tuple.transport != Transport::Tls) return bufferevent_write(bev, bytes.data(), bytes.size()) == 0;
  // One TLS record per frame: bufferevent_openssl calls SSL_write once per
  // buffer chain, and a chain of its own keeps frames from being coalesced.
  // Clients that read one record per message (turnutils_uclient) would
  // otherwise leave a second message undelivered inside the TLS layer.
  auto* copy = static_cast<uint8_t*>(std::malloc(bytes.size()));
  if (!copy) return false;
  std::memcpy(copy, bytes.data(), bytes.size());
  return evbuffer_add_reference(
             bufferevent_get_output(bev), copy, bytes.size(),
             [](const void*, size_t, void* p) { std::free(p); }, copy) == 0;
}

void StreamConnections::sweep(const HasAllocation& hasAllocation) {
  for (auto& l : listeners_) {
    if (!l->paused) continue;
    l->paused = false;
    evconnlistener_enable(l->ev.get());
  }
  const Instant now = clock_.now();
  std::vector<int> late;
  for (const auto& [fd, p] : pending_)
    if (now - p->created >= limits_.handshakeTimeout) late.push_back(fd);
  for (int fd : late)
    dropPending(*pending_.at(fd), &StreamStats::closedHandshakeTimeout, "no first bytes in time");
  std::vector<std::pair<FiveTuple, uint64_t StreamStats::*>> doomed;
  for (const auto& [tuple, c] : conns_) {
    if (!c->established && now - c->created >= limits_.handshakeTimeout) {
      doomed.emplace_back(tuple, &StreamStats::closedHandshakeTimeout);
    } else if (now - c->lastActive >= limits_.idleTimeout && !hasAllocation(tuple)) {
      doomed.emplace_back(tuple, &StreamStats::closedIdle);
    }
  }
  for (const auto& [tuple, counter] : doomed) {
    auto it = conns_.find(tuple);
    if (it != conns_.end()) close(*it->second, counter, "timeout");
  }
}

}  // namespace tw::io
