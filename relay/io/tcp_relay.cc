#include "relay/io/tcp_relay.h"

#include <event2/buffer.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "relay/io/udp_socket.h"

namespace tw::io {
namespace {

constexpr int kBacklog = 16;
/// libevent reads and writes at most 16 KiB per call by default; a joined
/// pipe moves bulk data, so fewer, larger calls per wake-up.
constexpr size_t kPipeIoBytes = 256 * 1024;

void widen(bufferevent* bev) {
  bufferevent_set_max_single_read(bev, kPipeIoBytes);
  bufferevent_set_max_single_write(bev, kPipeIoBytes);
}

void setFlag(int fd, int level, int opt) {
  const int one = 1;
  ::setsockopt(fd, level, opt, &one, sizeof one);
}

}  // namespace

struct TcpRelay::Listener {
  TcpRelay* owner;
  uint64_t allocationId;
  SocketAddress local;
  ListenerPtr ev;
};

struct TcpRelay::Pipe {
  TcpRelay* owner;
  uint32_t id;
  bool connecting = false;  ///< Outbound connect() in flight.
  bool peerEof = false;     ///< The peer closed before ConnectionBind.
  bool closing = false;     ///< One side ended: flush the other, then finish.
  bool flushPeer = false;   ///< While closing: the side being flushed.
  RateCfgPtr rate;  // outlives the bevs
  BufferEventPtr peer;
  BufferEventPtr client;  ///< Null until ConnectionBind.
};

TcpRelay::TcpRelay(event_base* base, Logger& log, TcpRelayCallbacks cb)
    : base_(base), log_(log), cb_(std::move(cb)) {}

TcpRelay::~TcpRelay() {
  pipes_.clear();  // no callbacks on teardown
  listeners_.clear();
}

void TcpRelay::setLimits(size_t peerBufferBytes, size_t highWatermark) {
  peerBufferBytes_ = peerBufferBytes;
  highWatermark_ = highWatermark;
}

size_t TcpRelay::listenerCount() const {
  return static_cast<size_t>(std::count_if(listeners_.begin(), listeners_.end(),
                                           [](const auto& l) { return l != nullptr; }));
}

Result<uint32_t, int> TcpRelay::listen(const SocketAddress& local, uint64_t allocationId) {
  auto l = std::make_unique<Listener>();
  l->owner = this;
  l->allocationId = allocationId;
  l->local = local;
  // SO_REUSEPORT: outbound connects bind the same relayed address.
  l->ev = listenTcp(base_, local, &TcpRelay::onAccept, l.get(), kBacklog);
  if (!l->ev) return err(errno ? errno : EADDRINUSE);
  uint32_t index;
  if (!freeListeners_.empty()) {
    index = freeListeners_.back();
    freeListeners_.pop_back();
  } else {
    index = static_cast<uint32_t>(listeners_.size());
    listeners_.emplace_back();
  }
  listeners_[index] = std::move(l);
  return index;
}

void TcpRelay::closeListener(uint32_t index) {
  if (index >= listeners_.size() || !listeners_[index]) return;
  listeners_[index].reset();
  freeListeners_.push_back(index);
}

void TcpRelay::onAccept(evconnlistener*, evutil_socket_t fd, sockaddr* sa, int, void* arg) {
  auto* l = static_cast<Listener*>(arg);
  UniqueFd owned(fd);
  auto peer = SocketAddress::fromSockaddr(sa);
  if (!peer) return;
  l->owner->accept(*l, std::move(owned), *peer);
}

void TcpRelay::accept(Listener& l, UniqueFd fd, const SocketAddress& peer) {
  ++stats_.accepted;
  auto id = cb_.accepted(l.allocationId, peer);
  if (!id) {
    ++stats_.refused;
    return;
  }
  evutil_make_socket_nonblocking(fd.get());
  setFlag(fd.get(), IPPROTO_TCP, TCP_NODELAY);
  bufferevent* bev = bufferevent_socket_new(base_, fd.get(), BEV_OPT_CLOSE_ON_FREE);
  if (!bev) return cb_.closed(*id);
  fd.release();  // the bufferevent closes it
  addPipe(*id, bev);
}

TcpRelay::Pipe& TcpRelay::addPipe(uint32_t id, bufferevent* peerBev) {
  auto p = std::make_unique<Pipe>();
  p->owner = this;
  p->id = id;
  p->peer.reset(peerBev);
  bufferevent_setcb(peerBev, &TcpRelay::onPeerRead, &TcpRelay::onPeerWrite, &TcpRelay::onPeerEvent,
                    p.get());
  bufferevent_enable(peerBev, EV_READ | EV_WRITE);
  Pipe& ref = *p;
  pipes_.insert_or_assign(id, std::move(p));
  return ref;
}

bool TcpRelay::connect(uint32_t index, const SocketAddress& peer, uint32_t id) {
  if (index >= listeners_.size() || !listeners_[index]) return false;
  const SocketAddress& local = listeners_[index]->local;
  UniqueFd owned(::socket(local.ip.isV4() ? AF_INET : AF_INET6,
                          SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!owned) return false;
  const int fd = owned.get();
  // The relayed address is the source of the connection (RFC 6062 §5.2); the
  // listener on it also has SO_REUSEPORT, so the kernel lets both bind.
  setFlag(fd, SOL_SOCKET, SO_REUSEADDR);
  setFlag(fd, SOL_SOCKET, SO_REUSEPORT);
  setFlag(fd, IPPROTO_TCP, TCP_NODELAY);
  if (!local.ip.isV4()) setFlag(fd, IPPROTO_IPV6, IPV6_V6ONLY);
  sockaddr_storage ss;
  socklen_t len = local.toSockaddr(ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    log_.warn("tcp relay: cannot bind " + local.toString() + " for a connect: " + std::strerror(errno));
    return false;
  }
  bufferevent* bev = bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) return false;
  owned.release();  // the bufferevent closes it
  Pipe& p = addPipe(id, bev);
  p.connecting = true;
  len = peer.toSockaddr(ss);
  if (bufferevent_socket_connect(bev, reinterpret_cast<sockaddr*>(&ss), static_cast<int>(len)) != 0) {
    pipes_.erase(id);
    return false;
  }
  ++stats_.connectsStarted;
  return true;
}

bool TcpRelay::join(uint32_t id, HandedOver client, uint64_t maxBps) {
  auto it = pipes_.find(id);
  if (it == pipes_.end() || it->second->client || it->second->connecting) return false;
  Pipe& p = *it->second;
  p.client = std::move(client.bev);
  bufferevent_setcb(p.client.get(), &TcpRelay::onClientRead, &TcpRelay::onClientWrite,
                    &TcpRelay::onClientEvent, &p);
  bufferevent_enable(p.peer.get(), EV_READ);  // if early data had filled the buffer
  widen(p.peer.get());
  widen(p.client.get());
  if (maxBps) {
    const size_t rate = static_cast<size_t>(std::min<uint64_t>(maxBps, EV_RATE_LIMIT_MAX));
    p.rate.reset(ev_token_bucket_cfg_new(rate, rate, rate, rate, nullptr));
    if (p.rate) bufferevent_set_rate_limit(p.peer.get(), p.rate.get());
  }
  if (!client.leftover.empty()) {
    bufferevent_write(p.peer.get(), client.leftover.data(), client.leftover.size());
    cb_.relayed(id, true, client.leftover.size());
  }
  bufferevent_enable(p.client.get(), EV_READ | EV_WRITE);
  ++stats_.joined;
  forward(p, false);  // early peer data
  forward(p, true);   // anything the client sent right behind ConnectionBind
  if (p.peerEof) sideEnded(p, /*peerSide=*/true, BEV_EVENT_EOF);
  return true;
}

void TcpRelay::close(uint32_t id) { finish(id, false); }

void TcpRelay::finish(uint32_t id, bool notify) {
  if (!pipes_.erase(id)) return;
  if (notify) cb_.closed(id);
}

void TcpRelay::forward(Pipe& p, bool toPeer) {
  bufferevent* from = toPeer ? p.client.get() : p.peer.get();
  bufferevent* to = toPeer ? p.peer.get() : p.client.get();
  evbuffer* in = bufferevent_get_input(from);
  const size_t n = evbuffer_get_length(in);
  if (n == 0) return;
  evbuffer* out = bufferevent_get_output(to);
  evbuffer_add_buffer(out, in);
  cb_.relayed(p.id, toPeer, n);
  if (evbuffer_get_length(out) >= highWatermark_) {
    // Backpressure: stop reading this side until the other drains to half.
    bufferevent_disable(from, EV_READ);
    bufferevent_setwatermark(to, EV_WRITE, highWatermark_ / 2, 0);
  }
}

void TcpRelay::resumeReading(Pipe& p, bool peerSide) {
  bufferevent* drained = peerSide ? p.peer.get() : p.client.get();
  if (p.closing) {
    if (peerSide == p.flushPeer && evbuffer_get_length(bufferevent_get_output(drained)) == 0)
      finish(p.id, true);
    return;
  }
  bufferevent* other = peerSide ? p.client.get() : p.peer.get();
  if (other) bufferevent_enable(other, EV_READ);
}

void TcpRelay::sideEnded(Pipe& p, bool peerSide, short what) {
  const uint32_t id = p.id;
  if (p.connecting) {
    pipes_.erase(id);
    return cb_.connected(id, false);
  }
  if (what & BEV_EVENT_ERROR) return finish(id, true);
  if (peerSide && !p.client) {
    // Closed before ConnectionBind: keep what it sent for the client.
    p.peerEof = true;
    bufferevent_disable(p.peer.get(), EV_READ);
    return;
  }
  if (!p.client) return finish(id, true);
  forward(p, !peerSide);
  p.closing = true;
  p.flushPeer = !peerSide;
  bufferevent_disable(p.peer.get(), EV_READ);
  bufferevent_disable(p.client.get(), EV_READ);
  bufferevent* other = peerSide ? p.client.get() : p.peer.get();
  bufferevent_setwatermark(other, EV_WRITE, 0, 0);
  if (evbuffer_get_length(bufferevent_get_output(other)) == 0) finish(id, true);
}

void TcpRelay::onPeerRead(bufferevent*, void* arg) {
  auto* p = static_cast<Pipe*>(arg);
  if (p->client) return p->owner->forward(*p, false);
  // Early data (RFC 6062 §5.3): held until ConnectionBind. At the cap the
  // relay stops reading, and TCP flow control tells the peer to wait.
  if (evbuffer_get_length(bufferevent_get_input(p->peer.get())) >= p->owner->peerBufferBytes_)
    bufferevent_disable(p->peer.get(), EV_READ);
}

void TcpRelay::onClientRead(bufferevent*, void* arg) {
  auto* p = static_cast<Pipe*>(arg);
  p->owner->forward(*p, true);
}

void TcpRelay::onPeerWrite(bufferevent*, void* arg) {
  auto* p = static_cast<Pipe*>(arg);
  p->owner->resumeReading(*p, true);
}

void TcpRelay::onClientWrite(bufferevent*, void* arg) {
  auto* p = static_cast<Pipe*>(arg);
  p->owner->resumeReading(*p, false);
}

void TcpRelay::onPeerEvent(bufferevent*, short what, void* arg) {
  auto* p = static_cast<Pipe*>(arg);
  if (what & BEV_EVENT_CONNECTED) {
    p->connecting = false;
    return p->owner->cb_.connected(p->id, true);
  }
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) p->owner->sideEnded(*p, true, what);
}

void TcpRelay::onClientEvent(bufferevent*, short what, void* arg) {
  auto* p = static_cast<Pipe*>(arg);
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) p->owner->sideEnded(*p, false, what);
}

}  // namespace tw::io
