#pragma once
// One worker: an event loop, its TurnServer, and the sockets of both kinds
// it serves: its datagram side (WorkerDatagrams: UDP and DTLS listeners,
// SO_REUSEPORT so later workers bind their own, UDP relay sockets, send
// batching) and its stream side (WorkerStreams: TCP/TLS connections, the
// TCP relay). The worker itself runs the loop, the tick and the policy
// refresh, and routes the IoPort calls to the side that owns the socket.
// Nothing here is shared with other workers except the port pools and the
// policy holder, so the packet path takes no locks.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "policy/snapshot.h"
#include "relay/base/log.h"
#include "relay/base/random.h"
#include "relay/io/event_loop.h"
#include "relay/io/handles.h"
#include "relay/io/worker_datagrams.h"
#include "relay/io/worker_streams.h"
#include "relay/turn/turn_server.h"

namespace tw::io {

/// The worker-side limits of stream connections from `transports:`.
StreamLimits streamLimits(const policy::TransportsConfig& t);

struct WorkerDeps {
  Clock& clock;
  Random& rng;
  turn::RelayEvents& events;
  turn::RelayAddresses& relays;
  const policy::NonceService& nonces;
  const policy::PolicyHolder& policy;
  Logger& log;
  /// Quotas and bans shared by all workers (nullptr: the worker keeps its own).
  turn::SharedLimits* shared = nullptr;
  /// This worker's number and how many there are (allocation and
  /// CONNECTION-ID ownership, turn::WorkerId).
  turn::WorkerId id{};
  /// The worker with index i (cross-worker ConnectionBind); empty with one.
  std::function<class Worker*(uint32_t)> peer;
};

class Worker final : public turn::IoPort {
 public:
  explicit Worker(WorkerDeps deps);
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Binds a UDP listener; returns the bound address (port 0 resolved); the
  /// error text names the address and errno.
  Result<SocketAddress, std::string> addUdpListener(const SocketAddress& local);
  /// Closes the UDP listener bound to `local` (reload). Its socket was the only
  /// path to its clients, so their allocations end ("listener_removed") rather
  /// than linger unreachable until they expire. false when there is none.
  bool removeUdpListener(const SocketAddress& local);
  /// Bound listener addresses (ports resolved).
  std::vector<SocketAddress> listenerAddresses() const;
  /// Runs the loop until stop(); the policy snapshot is picked up at the top
  /// of every loop iteration.
  void run();
  /// Thread-safe: stops the loop.
  void stop();
  /// One loop iteration that does not wait (tests drive the worker on their
  /// own thread): the policy check, then whatever events are ready.
  void pollOnce();
  /// Thread-safe: runs `fn` on this worker's loop thread (admin API, reload
  /// and metrics threads use this instead of touching worker state).
  void post(std::function<void()> fn) { loop_.post(std::move(fn)); }
  /// Runs `fn` on the loop thread and waits (EventLoop::call).
  bool call(const std::function<void()>& fn) { return loop_.call(fn); }
  event_base* base() { return loop_.base(); }
  const turn::WorkerId& id() const { return deps_.id; }
  turn::TurnServer& server() { return *server_; }
  /// TCP/TLS listeners and connections; frames go to server(), and a closed
  /// connection deletes its allocation (RFC 8656 §3.7).
  StreamConnections& streams() { return streams_->connections(); }
  /// A DTLS 1.2 listener (stateless cookies first); limits from streams().
  /// `ctx` (DtlsListener::makeContext) is shared with the other workers.
  Result<SocketAddress, std::string> addDtlsListener(const SocketAddress& local, SharedSslCtx ctx);
  /// Closes the DTLS listener bound to `local` (reload): its allocations end
  /// ("listener_removed"), then its sessions (close_notify). false when none.
  bool removeDtlsListener(const SocketAddress& local);
  const std::vector<std::unique_ptr<DtlsListener>>& dtlsListeners() const {
    return datagrams_->dtlsListeners();
  }
  /// TCP relay (RFC 6062) sockets: relayed listeners, peer connections, pipes.
  TcpRelay& tcpRelay() { return streams_->tcpRelay(); }
  /// Applies stream limits to client connections and to TCP relay.
  void setStreamLimits(const StreamLimits& limits);

  // turn::IoPort
  Result<turn::RelayHandle, int> openUdpRelay(const SocketAddress& local, uint64_t allocationId) override;
  void closeRelay(turn::RelayHandle handle) override;
  bool sendToPeer(turn::RelayHandle handle, const SocketAddress& peer,
                  std::span<const uint8_t> bytes) override;
  bool sendToClient(const FiveTuple& tuple, std::span<const uint8_t> bytes) override;
  Result<turn::RelayHandle, int> openTcpRelay(const SocketAddress& local, uint64_t allocationId) override;
  bool connectTcpPeer(turn::RelayHandle relay, const SocketAddress& peer, uint32_t id) override;
  bool bindTcpPeer(const FiveTuple& client, uint32_t id, uint64_t maxBps) override;
  void closeTcpPeer(uint32_t id) override;
  bool moveTcpBind(const FiveTuple& client, uint32_t id, uint32_t owner) override;

 private:
  static void onTick(evutil_socket_t fd, short what, void* arg);
  void refreshPolicy();
  /// The snapshot's TLS/DTLS contexts go to the listeners they name (new
  /// handshakes use them; live sessions keep theirs).
  void useTlsContexts(const policy::TlsMaterial* material);
  void endAllocationsOn(const SocketAddress& local, Transport transport);
  /// On the owner: joins a client connection moved here by moveTcpBind.
  void adoptTcpBind(uint32_t id, MovedConnection moved) { streams_->adoptBind(id, std::move(moved)); }

  WorkerDeps deps_;
  BufferedRandom rng_{deps_.rng};  // the loop thread's: ports, ids, txns, cookies
  EventLoop loop_;
  EventPtr tick_;
  uint64_t policyGeneration_ = 0;
  /// The TLS material last applied: held (not a raw pointer) so a later
  /// set cannot reuse its address and be mistaken for it.
  std::shared_ptr<const policy::TlsMaterial> tls_;
  // Declared in this order, destroyed in the reverse: the stream side
  // first, then the datagram side, then the server (which ~Worker has
  // emptied, so it closes nothing on the sides any more).
  std::unique_ptr<turn::TurnServer> server_;
  std::unique_ptr<WorkerDatagrams> datagrams_;
  std::unique_ptr<WorkerStreams> streams_;
};

}  // namespace tw::io
