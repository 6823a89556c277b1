#pragma once
// One worker: an event loop, its listener sockets (SO_REUSEPORT, so later
// workers bind their own), the relay sockets of the allocations it created,
// and its TurnServer. Nothing here is shared with other workers except the
// port pools and the policy holder, so the packet path takes no locks.
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/snapshot.h"
#include "relay/base/log.h"
#include "relay/base/random.h"
#include "relay/io/datagram_batch.h"
#include "relay/io/connection_move.h"
#include "relay/io/dtls_listener.h"
#include "relay/io/event_loop.h"
#include "relay/io/handles.h"
#include "relay/io/send_batch.h"
#include "relay/io/stream_connections.h"
#include "relay/io/tcp_relay.h"
#include "relay/io/uring.h"
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
  /// How UDP datagrams leave and whether io_uring carries them (config
  /// `io:`, read once: a worker opens its rings and send arena at start).
  /// send_batch gso (default), mmsg (sendmmsg, no GSO), off (one sendto per
  /// datagram, as before batching); they exist to measure the levers of
  /// docs/benchmarks.md one at a time.
  policy::IoConfig io{};
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
  StreamConnections& streams() { return *streams_; }
  /// A DTLS 1.2 listener (stateless cookies first); limits from streams().
  /// `ctx` (DtlsListener::makeContext) is shared with the other workers.
  Result<SocketAddress, std::string> addDtlsListener(const SocketAddress& local, SharedSslCtx ctx);
  /// Closes the DTLS listener bound to `local` (reload): its allocations end
  /// ("listener_removed"), then its sessions (close_notify). false when none.
  bool removeDtlsListener(const SocketAddress& local);
  const std::vector<std::unique_ptr<DtlsListener>>& dtlsListeners() const { return dtls_; }
  /// TCP relay (RFC 6062) sockets: relayed listeners, peer connections, pipes.
  TcpRelay& tcpRelay() { return *tcp_; }
  /// Applies stream limits to client connections and to TCP relay.
  void setStreamLimits(const StreamLimits& limits);

  // turn::IoPort
  Result<turn::RelayHandle, int> openUdpRelay(const SocketAddress& local,
                                              uint64_t allocationId) override;
  void closeRelay(turn::RelayHandle handle) override;
  bool sendToPeer(turn::RelayHandle handle, const SocketAddress& peer,
                  std::span<const uint8_t> bytes) override;
  bool sendToClient(const FiveTuple& tuple, std::span<const uint8_t> bytes) override;
  Result<turn::RelayHandle, int> openTcpRelay(const SocketAddress& local,
                                              uint64_t allocationId) override;
  bool connectTcpPeer(turn::RelayHandle relay, const SocketAddress& peer, uint32_t id) override;
  bool bindTcpPeer(const FiveTuple& client, uint32_t id, uint64_t maxBps) override;
  void closeTcpPeer(uint32_t id) override;
  bool moveTcpBind(const FiveTuple& client, uint32_t id, uint32_t owner) override;

 private:
  struct Listener {
    Worker* owner;
    SocketAddress local;
    /// Bound to 0.0.0.0 / ::: each datagram's destination comes from
    /// IP_PKTINFO, and answers leave from it.
    bool wildcard = false;
    UniqueFd fd;
    EventPtr ev;
  };
  struct RelaySlot {
    Worker* owner;
    turn::RelayHandle handle;
    uint64_t allocationId = 0;
    /// The ring's name for this socket: generation << 32 | handle, so a
    /// completion for an earlier socket in the same slot is recognised.
    uint64_t token = 0;
    bool viaRing = false;  ///< read by a multishot receive, not by `ev`
    UniqueFd fd;
    EventPtr ev;
  };
  /// Completions of the receive ring, for this worker's relay sockets.
  struct RingHandler final : UringReceiver::Handler {
    explicit RingHandler(Worker& w) : worker(w) {}
    void onDatagram(uint64_t token, const SocketAddress& source, std::span<const uint8_t> payload,
                    bool truncated) override;
    int fdFor(uint64_t token) override;
    void onReceiveFailed(uint64_t token, int error) override;
    Worker& worker;
  };

  static void onListenerReadable(evutil_socket_t fd, short what, void* arg);
  static void onRelayReadable(evutil_socket_t fd, short what, void* arg);
  static void onTick(evutil_socket_t fd, short what, void* arg);
  static void onFlush(evutil_socket_t fd, short what, void* arg);
  static void onRingReadable(evutil_socket_t fd, short what, void* arg);
  /// io_uring for sends and relay receives, as `io.uring` and the kernel allow.
  void openRings();
  RelaySlot* slotFor(uint64_t token) const;
  /// Sends one datagram, or queues it for the flush that runs once every
  /// callback of this loop pass has run (all sockets read, then one
  /// sendmmsg per socket). false: refused at once (not batching).
  bool queueSend(int fd, const SocketAddress& to, const std::optional<IpAddress>& from,
                 std::span<const uint8_t> bytes);
  /// Sends what is queued; refused datagrams are counted as send_failed.
  void flushSends();
  /// The UDP listener whose socket answers for local address `server` (a
  /// hash lookup, exact address first, then the family's wildcard).
  Listener* udpListenerFor(const SocketAddress& server) const;
  DtlsListener* dtlsListenerFor(const SocketAddress& server) const;
  void readListener(Listener& l);
  void readRelay(RelaySlot& slot);
  /// One datagram a relay socket received (epoll or ring): to the server, or
  /// dropped as oversize when it did not fit its buffer.
  void deliverPeerDatagram(uint64_t allocationId, const SocketAddress& source,
                           std::span<const uint8_t> payload, bool truncated);
  void refreshPolicy();
  /// The snapshot's TLS/DTLS contexts go to the listeners they name (new
  /// handshakes use them; live sessions keep theirs).
  void useTlsContexts(const policy::TlsMaterial* material);
  void endAllocationsOn(const SocketAddress& local, Transport transport);
  TcpRelayCallbacks tcpRelayCallbacks();
  /// On the owner: joins a client connection moved here by moveTcpBind.
  void adoptTcpBind(uint32_t id, MovedConnection moved);

  WorkerDeps deps_;
  BufferedRandom rng_{deps_.rng};  // the loop thread's: ports, ids, txns, cookies
  EventLoop loop_;
  EventPtr tick_;
  DatagramBatch batch_;
  std::unique_ptr<SendBatch> sends_;  // large fixed arena: on the heap, once
  std::unique_ptr<UringSender> uringSend_;    // null: sendmmsg
  std::unique_ptr<UringReceiver> uringRecv_;  // null: epoll + recvmmsg on relay sockets
  RingHandler ringHandler_{*this};
  EventPtr ringEv_;  // the receive ring's fd; freed before the ring
  uint32_t relayGeneration_ = 0;
  EventPtr flush_;
  std::unordered_map<SocketAddress, Listener*> udpIndex_;
  std::unordered_map<SocketAddress, DtlsListener*> dtlsIndex_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<RelaySlot>> relays_;
  std::vector<turn::RelayHandle> freeHandles_;
  uint64_t policyGeneration_ = 0;
  /// The TLS material last applied: held (not a raw pointer) so a later
  /// set cannot reuse its address and be mistaken for it.
  std::shared_ptr<const policy::TlsMaterial> tls_;
  std::unique_ptr<turn::TurnServer> server_;
  std::unique_ptr<StreamConnections> streams_;  // destroyed first: frees bufferevents
  std::unique_ptr<TcpRelay> tcp_;
  std::vector<std::unique_ptr<DtlsListener>> dtls_;
};

}  // namespace tw::io
