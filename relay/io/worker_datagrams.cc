#include "relay/io/worker_datagrams.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "relay/io/udp_socket.h"

namespace tw::io {

namespace {
template <class T>
T* findCovering(const std::unordered_map<SocketAddress, T*>& index, const SocketAddress& server) {
  if (auto it = index.find(server); it != index.end()) return it->second;
  const SocketAddress any{server.ip.isV4() ? IpAddress::v4(0) : IpAddress::v6(std::array<uint8_t, 16>{}),
                          server.port};
  auto it = index.find(any);
  return it == index.end() ? nullptr : it->second;
}
}  // namespace

WorkerDatagrams::WorkerDatagrams(DatagramDeps deps, turn::TurnServer& server) : deps_(deps), server_(server) {
  flush_.reset(event_new(deps_.base, -1, 0, &WorkerDatagrams::onFlush, this));
  if (const char* mode = std::getenv("TW_SEND_BATCH")) {
    const std::string_view m(mode);
    sendMode_ = m == "off" ? SendMode::Off : m == "mmsg" ? SendMode::Mmsg : SendMode::Gso;
  }
  sends_ = std::make_unique<SendBatch>(sendMode_ == SendMode::Gso);
  openRings();
}

WorkerDatagrams::~WorkerDatagrams() = default;

void WorkerDatagrams::openRings() {
  const UringMode mode = uringModeFromEnv();
  std::string why;
  if (mode != UringMode::Off && sendMode_ != SendMode::Off) {
    uringSend_ = UringSender::open(256, why);
    if (uringSend_) sends_->useRing(uringSend_.get());
  }
  if (mode == UringMode::On && uringSend_) {
    uringRecv_ = UringReceiver::open(why);
    if (uringRecv_) {
      ringEv_.reset(event_new(deps_.base, uringRecv_->fd(), EV_READ | EV_PERSIST,
                              &WorkerDatagrams::onRingReadable, this));
      event_add(ringEv_.get(), nullptr);
    }
  }
  if (deps_.workerIndex == 0) logBackends(mode, why);  // one line for the process
}

void WorkerDatagrams::logBackends(UringMode mode, const std::string& why) {
  if (mode == UringMode::Off)
    deps_.log.info("io: io_uring off (TW_IO_URING=off): epoll, recvmmsg, sendmmsg");
  else if (!uringSend_ || (mode == UringMode::On && !uringRecv_))
    deps_.log.warn("io: io_uring unavailable (" + why + "): epoll, recvmmsg, sendmmsg instead");
  else
    deps_.log.info(std::string("io: io_uring for UDP sends") +
                   (uringRecv_ ? " and relay-socket receives (multishot)" : ""));
}

void WorkerDatagrams::onRingReadable(evutil_socket_t, short, void* arg) {
  auto* d = static_cast<WorkerDatagrams*>(arg);
  d->uringRecv_->reap(d->ringHandler_);
}

WorkerDatagrams::RelaySlot* WorkerDatagrams::slotFor(uint64_t token) const {
  const auto h = static_cast<size_t>(token & 0xFFFFFFFFu);
  if (h >= relays_.size() || !relays_[h] || relays_[h]->token != token) return nullptr;
  return relays_[h].get();
}

WorkerDatagrams::RelaySlot* WorkerDatagrams::slot(turn::RelayHandle h) const {
  if (h < 0 || static_cast<size_t>(h) >= relays_.size()) return nullptr;
  return relays_[static_cast<size_t>(h)].get();
}

void WorkerDatagrams::RingHandler::onDatagram(uint64_t token, const SocketAddress& source,
                                              std::span<const uint8_t> payload, bool truncated) {
  if (const RelaySlot* slot = owner.slotFor(token))
    owner.deliverPeerDatagram(slot->allocationId, source, payload, truncated);
}

int WorkerDatagrams::RingHandler::fdFor(uint64_t token) {
  const RelaySlot* slot = owner.slotFor(token);
  return slot ? slot->fd.get() : -1;
}

void WorkerDatagrams::RingHandler::onReceiveFailed(uint64_t token, int error) {
  RelaySlot* slot = owner.slotFor(token);
  if (!slot) return;
  owner.deps_.log.warn("io: io_uring receive on a relay socket ended (" + std::string(std::strerror(error)) +
                       "): that socket is read through epoll from now on");
  slot->viaRing = false;
  event_add(slot->ev.get(), nullptr);
}

Result<SocketAddress, std::string> WorkerDatagrams::addUdpListener(const SocketAddress& local) {
  auto fd = openUdpSocket(local, /*reusePort=*/true, kListenerBufferBytes);
  if (!fd) return err("cannot bind udp " + local.toString() + ": " + std::strerror(fd.error()));
  auto l = std::make_unique<Listener>();
  l->owner = this;
  l->local = localAddress(fd->get()).value_or(local);
  l->wildcard = l->local.ip.isUnspecified();
  if (l->wildcard) enableDestinationInfo(fd->get(), l->local.ip.family());
  l->fd = std::move(fd.value());
  l->ev.reset(event_new(deps_.base, l->fd.get(), EV_READ | EV_PERSIST, &WorkerDatagrams::onListenerReadable,
                        l.get()));
  event_add(l->ev.get(), nullptr);
  const SocketAddress bound = l->local;
  udpIndex_[bound] = l.get();
  listeners_.push_back(std::move(l));
  return bound;
}

bool WorkerDatagrams::removeUdpListener(const SocketAddress& local) {
  auto it =
      std::find_if(listeners_.begin(), listeners_.end(), [&](const auto& l) { return l->local == local; });
  if (it == listeners_.end()) return false;
  flushSends();
  udpIndex_.erase(local);
  listeners_.erase(it);  // frees the event, then closes the socket
  return true;
}

std::vector<SocketAddress> WorkerDatagrams::listenerAddresses() const {
  std::vector<SocketAddress> out;
  for (const auto& l : listeners_) out.push_back(l->local);
  return out;
}

Result<SocketAddress, std::string> WorkerDatagrams::addDtlsListener(const SocketAddress& local,
                                                                    SharedSslCtx ctx,
                                                                    const StreamLimits& limits) {
  auto d = std::make_unique<DtlsListener>(
      deps_.base, deps_.clock, deps_.rng, deps_.log,
      [this](const FiveTuple& t, std::span<const uint8_t> frame) { server_.onClientDatagram(t, frame); },
      [this](const FiveTuple& t) { server_.onConnectionClosed(t); });
  if (auto st = d->listen(local, std::move(ctx), limits); !st) return err(st.error());
  const SocketAddress bound = d->local();
  dtlsIndex_[bound] = d.get();
  dtls_.push_back(std::move(d));
  return bound;
}

bool WorkerDatagrams::removeDtlsListener(const SocketAddress& local) {
  auto it = std::find_if(dtls_.begin(), dtls_.end(), [&](const auto& d) { return d->local() == local; });
  if (it == dtls_.end()) return false;
  (*it)->closeSessions();
  dtlsIndex_.erase(local);
  dtls_.erase(it);
  return true;
}

void WorkerDatagrams::useDtlsContext(const SocketAddress& bound, SharedSslCtx ctx) {
  if (auto it = dtlsIndex_.find(bound); it != dtlsIndex_.end()) it->second->useContext(std::move(ctx));
}

void WorkerDatagrams::sweep(const DtlsListener::HasAllocation& hasAllocation) {
  for (auto& d : dtls_) d->sweep(hasAllocation);
}

void WorkerDatagrams::onFlush(evutil_socket_t, short, void* arg) {
  static_cast<WorkerDatagrams*>(arg)->flushSends();
}

void WorkerDatagrams::flushSends() {
  if (const size_t refused = sends_->flush()) server_.countSendFailures(refused);
  if (uringRecv_) uringRecv_->submit();  // this pass's arms
}

bool WorkerDatagrams::queueSend(int fd, const SocketAddress& to, const std::optional<IpAddress>& from,
                                std::span<const uint8_t> bytes) {
  if (sendMode_ == SendMode::Off) return sendDatagramFrom(fd, to, from, bytes);
  // Activated during this loop pass, the flush event runs after the
  // callbacks already queued in it: every socket that was readable is read
  // before anything is sent.
  if (sends_->empty()) event_active(flush_.get(), EV_READ, 0);
  if (const size_t refused = sends_->push(fd, to, from, bytes)) server_.countSendFailures(refused);
  return true;
}

WorkerDatagrams::Listener* WorkerDatagrams::udpListenerFor(const SocketAddress& server) const {
  return findCovering(udpIndex_, server);
}

DtlsListener* WorkerDatagrams::dtlsListenerFor(const SocketAddress& server) const {
  return findCovering(dtlsIndex_, server);
}

void WorkerDatagrams::onListenerReadable(evutil_socket_t, short, void* arg) {
  auto* l = static_cast<Listener*>(arg);
  l->owner->readListener(*l);
}

void WorkerDatagrams::onRelayReadable(evutil_socket_t, short, void* arg) {
  auto* slot = static_cast<RelaySlot*>(arg);
  slot->owner->readRelay(*slot);
}

void WorkerDatagrams::readListener(Listener& l) {
  // Bounded: at most a few batches per wake-up so relay sockets get a turn.
  for (int round = 0; round < 4; ++round) {
    const size_t n = batch_.receive(l.fd.get());
    for (size_t i = 0; i < n; ++i) {
      auto src = batch_.source(i);
      if (!src) continue;
      if (batch_.truncated(i)) {
        server_.onOversizeDatagram(*src);
        continue;
      }
      FiveTuple tuple{*src, l.local, Transport::Udp};
      if (l.wildcard) {
        // The 5-tuple names the address the client sent to: answers,
        // XOR-MAPPED-ADDRESS and the allocation's tuple all use it.
        auto dst = batch_.destination(i);
        if (!dst) continue;  // cannot happen with IP_PKTINFO on; never answer from the wildcard
        tuple.server.ip = *dst;
      }
      server_.onClientDatagram(tuple, batch_.payload(i));
    }
    if (n < DatagramBatch::kBatch) break;
  }
}

void WorkerDatagrams::readRelay(RelaySlot& slot) {
  const uint64_t id = slot.allocationId;
  const int fd = slot.fd.get();
  for (int round = 0; round < 4; ++round) {
    const size_t n = batch_.receive(fd);
    for (size_t i = 0; i < n; ++i) {
      if (auto src = batch_.source(i)) deliverPeerDatagram(id, *src, batch_.payload(i), batch_.truncated(i));
    }
    if (n < DatagramBatch::kBatch) break;
  }
}

void WorkerDatagrams::deliverPeerDatagram(uint64_t allocationId, const SocketAddress& source,
                                          std::span<const uint8_t> payload, bool truncated) {
  if (truncated) return server_.onOversizeDatagram(source);
  // The allocation may be deleted while a batch is handled; the server looks
  // it up by id each time, so a stale id is simply ignored.
  server_.onPeerDatagram(allocationId, source, payload);
}

turn::RelayHandle WorkerDatagrams::takeHandle() {
  if (freeHandles_.empty()) {
    relays_.emplace_back();
    return static_cast<turn::RelayHandle>(relays_.size() - 1);
  }
  const turn::RelayHandle h = freeHandles_.back();
  freeHandles_.pop_back();
  return h;
}

Result<turn::RelayHandle, int> WorkerDatagrams::openRelay(const SocketAddress& local, uint64_t allocationId) {
  auto fd = openUdpSocket(local, /*reusePort=*/false);
  if (!fd) return err(fd.error());
  const turn::RelayHandle h = takeHandle();
  auto s = std::make_unique<RelaySlot>();
  s->owner = this;
  s->handle = h;
  s->allocationId = allocationId;
  s->fd = std::move(fd.value());
  s->token = (uint64_t{++relayGeneration_} << 32) | static_cast<uint32_t>(h);
  s->ev.reset(
      event_new(deps_.base, s->fd.get(), EV_READ | EV_PERSIST, &WorkerDatagrams::onRelayReadable, s.get()));
  s->viaRing = uringRecv_ && uringRecv_->arm(s->fd.get(), s->token);
  if (!s->viaRing)
    event_add(s->ev.get(), nullptr);
  else
    event_active(flush_.get(), EV_READ, 0);  // the arm is submitted at this pass's flush
  relays_[static_cast<size_t>(h)] = std::move(s);
  return h;
}

void WorkerDatagrams::closeRelay(turn::RelayHandle h) {
  RelaySlot* s = slot(h);
  if (!s) return;
  flushSends();                                  // what is queued on this socket leaves before it closes
  if (s->viaRing) uringRecv_->cancel(s->token);  // the ring holds the file until then
  relays_[static_cast<size_t>(h)].reset();       // frees the event, then closes the fd
  freeHandles_.push_back(h);
}

bool WorkerDatagrams::sendToPeer(turn::RelayHandle h, const SocketAddress& peer,
                                 std::span<const uint8_t> bytes) {
  const RelaySlot* s = slot(h);
  return s && queueSend(s->fd.get(), peer, std::nullopt, bytes);
}

bool WorkerDatagrams::sendToClient(const FiveTuple& tuple, std::span<const uint8_t> bytes) {
  if (tuple.transport == Transport::Dtls) {
    DtlsListener* d = dtlsListenerFor(tuple.server);
    return d && d->send(tuple, bytes);
  }
  const Listener* l = udpListenerFor(tuple.server);
  if (!l) return false;
  return queueSend(l->fd.get(), tuple.client,
                   l->wildcard ? std::optional<IpAddress>(tuple.server.ip) : std::nullopt, bytes);
}

}  // namespace tw::io
