#pragma once
// The datagram side of a worker (io::Worker composes it with its stream
// side, worker_streams.h): UDP and DTLS listeners, the UDP relay sockets of
// the worker's allocations, the receive batch and the io_uring receive ring,
// and send batching with its flush once per loop pass. Every datagram read
// goes to the worker's TurnServer. Runs on the worker's loop thread only.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "relay/base/log.h"
#include "relay/base/random.h"
#include "relay/io/datagram_batch.h"
#include "relay/io/dtls_listener.h"
#include "relay/io/handles.h"
#include "relay/io/send_batch.h"
#include "relay/io/uring.h"
#include "relay/turn/turn_server.h"

namespace tw::io {

struct DatagramDeps {
  event_base* base;
  Clock& clock;
  Random& rng;  ///< the worker's loop-thread buffer (DTLS cookies)
  Logger& log;
  uint32_t workerIndex = 0;  ///< worker 0 logs the I/O backends, once for the process
};

class WorkerDatagrams {
 public:
  WorkerDatagrams(DatagramDeps deps, turn::TurnServer& server);
  ~WorkerDatagrams();
  WorkerDatagrams(const WorkerDatagrams&) = delete;
  WorkerDatagrams& operator=(const WorkerDatagrams&) = delete;

  /// Binds a UDP listener; returns the bound address (port 0 resolved); the
  /// error text names the address and errno.
  Result<SocketAddress, std::string> addUdpListener(const SocketAddress& local);
  bool hasUdpListener(const SocketAddress& local) const { return udpIndex_.count(local) != 0; }
  /// Closes the UDP listener bound to `local` after what is queued on it
  /// left; false when there is none.
  bool removeUdpListener(const SocketAddress& local);
  /// Bound UDP listener addresses (ports resolved).
  std::vector<SocketAddress> listenerAddresses() const;

  /// A DTLS 1.2 listener (stateless cookies first) with `limits`.
  Result<SocketAddress, std::string> addDtlsListener(const SocketAddress& local, SharedSslCtx ctx,
                                                     const StreamLimits& limits);
  bool hasDtlsListener(const SocketAddress& local) const { return dtlsIndex_.count(local) != 0; }
  /// Ends the DTLS listener's sessions (close_notify) and closes it.
  bool removeDtlsListener(const SocketAddress& local);
  const std::vector<std::unique_ptr<DtlsListener>>& dtlsListeners() const { return dtls_; }
  /// New handshakes on the DTLS listener bound to `bound` use `ctx`.
  void useDtlsContext(const SocketAddress& bound, SharedSslCtx ctx);
  /// DTLS handshake and idle timeouts (the worker's 1-second tick).
  void sweep(const DtlsListener::HasAllocation& hasAllocation);

  // The datagram half of turn::IoPort.
  Result<turn::RelayHandle, int> openRelay(const SocketAddress& local, uint64_t allocationId);
  void closeRelay(turn::RelayHandle h);
  bool sendToPeer(turn::RelayHandle h, const SocketAddress& peer, std::span<const uint8_t> bytes);
  /// A UDP or DTLS client.
  bool sendToClient(const FiveTuple& tuple, std::span<const uint8_t> bytes);
  /// Sends what is queued; refused datagrams are counted as send_failed.
  void flushSends();

 private:
  struct Listener {
    WorkerDatagrams* owner;
    SocketAddress local;
    /// Bound to 0.0.0.0 / ::: each datagram's destination comes from
    /// IP_PKTINFO, and answers leave from it.
    bool wildcard = false;
    UniqueFd fd;
    EventPtr ev;
  };
  /// How UDP datagrams leave (TW_SEND_BATCH, for measuring the levers in
  /// docs/benchmarks.md): gso (default), mmsg (sendmmsg, no GSO), off (one
  /// sendto per datagram, as before batching).
  enum class SendMode { Off, Mmsg, Gso };
  struct RelaySlot {
    WorkerDatagrams* owner;
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
    explicit RingHandler(WorkerDatagrams& w) : owner(w) {}
    void onDatagram(uint64_t token, const SocketAddress& source, std::span<const uint8_t> payload,
                    bool truncated) override;
    int fdFor(uint64_t token) override;
    void onReceiveFailed(uint64_t token, int error) override;
    WorkerDatagrams& owner;
  };

  static void onListenerReadable(evutil_socket_t fd, short what, void* arg);
  static void onRelayReadable(evutil_socket_t fd, short what, void* arg);
  static void onFlush(evutil_socket_t fd, short what, void* arg);
  static void onRingReadable(evutil_socket_t fd, short what, void* arg);
  /// io_uring for sends and relay receives, as TW_IO_URING and the kernel allow.
  void openRings();
  void logBackends(UringMode mode, const std::string& why);
  RelaySlot* slotFor(uint64_t token) const;
  RelaySlot* slot(turn::RelayHandle h) const;
  turn::RelayHandle takeHandle();
  /// Sends one datagram, or queues it for the flush that runs once every
  /// callback of this loop pass has run (all sockets read, then one
  /// sendmmsg per socket). false: refused at once (not batching).
  bool queueSend(int fd, const SocketAddress& to, const std::optional<IpAddress>& from,
                 std::span<const uint8_t> bytes);
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

  DatagramDeps deps_;
  turn::TurnServer& server_;
  DatagramBatch batch_;
  SendMode sendMode_ = SendMode::Gso;
  std::unique_ptr<SendBatch> sends_;          // large fixed arena: on the heap, once
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
  std::vector<std::unique_ptr<DtlsListener>> dtls_;
};

}  // namespace tw::io
