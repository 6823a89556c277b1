#pragma once
// The request pipeline of one worker (RFC 8489 / RFC 8656 over UDP):
//
//   datagram -> admit -> classify -> ChannelData fast path
//                                -> decode -> auth gate -> one handler per method
//                                                           -> Outcome -> respond
//
// The handlers (admission too) are free functions over narrow deps
// (handlers.h); this class is the pipeline around them, owns the state they
// are handed, and is the only one that reports events (respond.cc). No
// sockets here: bytes go out through IoPort, time comes from Clock, and
// randomness from Random, so every step is testable on its own.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "policy/nonce.h"
#include "policy/snapshot.h"
#include "relay/base/clock.h"
#include "relay/base/log.h"
#include "relay/base/mac_engine.h"
#include "relay/base/random.h"
#include "relay/stun/builder.h"
#include "relay/stun/message.h"
#include "relay/turn/allocation_table.h"
#include "relay/turn/counters.h"
#include "relay/turn/events.h"
#include "relay/turn/handlers.h"
#include "relay/turn/io_port.h"
#include "relay/turn/outcome.h"
#include "relay/turn/rate_limiter.h"
#include "relay/turn/relay_addresses.h"
#include "relay/turn/shared_limits.h"
#include "relay/turn/tcp_connections.h"
#include "relay/turn/worker_id.h"

namespace tw::turn {

struct ServerDeps {
  Clock& clock;
  Random& rng;
  IoPort& io;
  RelayEvents& events;
  RelayAddresses& relays;
  const policy::NonceService& nonces;
  /// Quotas and bans shared by every worker; nullptr: this server keeps its own.
  SharedLimits* shared = nullptr;
  /// Which worker this is (allocation ids, CONNECTION-ID ownership).
  WorkerId worker{};
  /// Sets in the per-IP rate-limit and (own) ban tables; 0: the production
  /// size (kRateSets, kBanSets: megabytes, zeroed at construction). The
  /// pipeline fuzz target builds a server per input and asks for a few.
  size_t tableSets = 0;
};

class TurnServer {
 public:
  TurnServer(ServerDeps deps, std::shared_ptr<const policy::PolicySnapshot> policy);
  ~TurnServer();
  TurnServer(const TurnServer&) = delete;
  TurnServer& operator=(const TurnServer&) = delete;

  /// Swaps in a new policy snapshot and applies it to live allocations
  /// (called by the worker at the top of a loop iteration, once per snapshot).
  void setPolicy(std::shared_ptr<const policy::PolicySnapshot> policy);
  const policy::PolicySnapshot& policy() const { return *policy_; }

  void onClientDatagram(const FiveTuple& tuple, std::span<const uint8_t> bytes);
  void onPeerDatagram(uint64_t allocationId, const SocketAddress& peer, std::span<const uint8_t> bytes);
  /// A datagram too large for the receive slot (from a client or a peer) was
  /// cut short by the kernel: dropped unread, but counted and reported.
  void onOversizeDatagram(const SocketAddress& source);
  /// A stream (TCP/TLS) client connection ended: its allocation ends with it
  /// (RFC 8656 §3.7).
  void onConnectionClosed(const FiveTuple& tuple);
  /// Expires allocations, permissions, channels and port reservations.
  void tick();
  /// The edge batches UDP sends and learns only at its flush that the kernel
  /// refused `n` of them (full socket buffer): counted as send_failed drops.
  void countSendFailures(size_t n) {
    for (size_t i = 0; i < n; ++i) counters_.drop(DropReason::SendFailed);
  }

  // TCP relay (RFC 6062) events from the edge (turn_server_tcp.cc).
  /// A peer connected to a TCP allocation's relayed address: its
  /// CONNECTION-ID, or nullopt to refuse it (no permission, denied, over cap).
  std::optional<uint32_t> onTcpPeerAccepted(uint64_t allocationId, const SocketAddress& peer);
  /// The connect() of a Connect request finished; answers the request.
  void onTcpPeerConnected(uint32_t id, bool ok);
  /// A peer connection (and its client data connection) ended.
  void onTcpPeerClosed(uint32_t id);
  void onTcpRelayed(uint32_t id, Direction d, size_t bytes);
  /// A ConnectionBind for `id` taken on another worker moved its client
  /// connection here: the maxBps to join it with, or nullopt when the peer
  /// connection is gone (the client connection is then closed).
  std::optional<uint64_t> onTcpBindMoved(uint32_t id);
  const TcpConnectionTable& tcpConnections() const { return tcp_; }
  /// Deletes every allocation (shutdown).
  void closeAll();

  /// Ends allocation `id` now (admin API); false when there is none.
  bool endAllocation(uint64_t id, std::string_view why);
  /// While draining, Allocate gets 508 and live allocations run on.
  void setDraining(bool draining) { draining_ = draining; }

  const WorkerCounters& counters() const { return counters_; }
  AllocationTable& allocations() { return table_; }
  SharedLimits& shared() { return *shared_; }

 private:
  using Request = RequestContext;
  /// Where a response goes and how it is signed: taken from the request, or
  /// from a deferred Connect's record when connect() completes.
  struct ReplyTo {
    stun::Method method;
    stun::TransactionId txn;
    const FiveTuple& tuple;
    Instant now;
    const Key* key = nullptr;           ///< MESSAGE-INTEGRITY key once authenticated
    bool fingerprint = false;           ///< mirrors the request (RFC 8489 §7.3)
    std::span<const uint16_t> unknown;  ///< UNKNOWN-ATTRIBUTES of a 420
  };

  void onChannelData(const FiveTuple& tuple, std::span<const uint8_t> bytes);
  void onStunMessage(const FiveTuple& tuple, const stun::Message& msg);
  void onIndication(const FiveTuple& tuple, const stun::Message& msg);
  Outcome process(Request& req);
  Outcome authenticate(Request& req);
  Outcome authenticateRest(Request& req, std::string_view username);
  /// Hands the request to its handler (handlers.h) with the deps it needs.
  Outcome dispatch(Request& req);
  Outcome dispatchOnAllocation(Request& req);
  PeerGate peerGate() const { return PeerGate{deps_.relays}; }
  AdmissionDeps admissionDeps() { return AdmissionDeps{shared_->bans, rates_, counters_}; }
  ConnectionBindDeps bindDeps() { return ConnectionBindDeps{tcp_, table_, deps_.worker.index}; }

  // TCP relay (turn_server_tcp.cc).
  /// After a ConnectionBind's answer: join or move its data connection.
  void handOver(const FiveTuple& client, const TcpHandOver& h);
  /// A deferred Connect's answer, signed with its allocation's key.
  void answerConnect(const TcpConnection& c, const Outcome& outcome);
  void expireTcpConnections(Instant now);
  void closeTcpConnections(Allocation& a);
  void closeDeniedTcpConnections(Allocation& a);
  void forgetTcpConnection(uint32_t id);

  /// nullopt when `peer` may be relayed to from `a`; else the rule that denied it.
  std::optional<std::string> peerDenied(const Allocation& a, const SocketAddress& peer) const {
    return turn::peerDenied(*policy_, deps_.relays, a, peer);
  }

  // The single exit of the pipeline (respond.cc): events, counters, bytes.
  static ReplyTo replyTo(const Request& req);
  void respond(const Request& req, const Outcome& outcome);
  void respond(const ReplyTo& to, const Outcome& outcome);
  /// A Send indication's end: never answered, a drop is counted.
  void conclude(const Request& ind, const Outcome& outcome);
  /// A peer's TCP connection (handleTcpPeer): the ConnectionAttempt
  /// indication to `a`'s client, or the drop.
  void respondToPeer(const Allocation& a, const SocketAddress& peer, const Outcome& outcome);
  /// Reports the Outcome's events (Outcome::events) for a request on
  /// `tuple` and its allocation `a`.
  void report(const Outcome& outcome, const FiveTuple& tuple, const Allocation* a);
  void report(const Event& e, const Outcome& outcome, const FiveTuple& tuple, const Allocation* a);
  /// Bytes only (no events): success attributes or the error, then
  /// SOFTWARE, MESSAGE-INTEGRITY and FINGERPRINT.
  void encode(const ReplyTo& to, const Outcome& outcome);
  void encodeError(stun::MessageBuilder& b, const ReplyTo& to, const Outcome& outcome);
  static void encodeAttrs(stun::MessageBuilder& b, const ResponseAttrs& attrs);
  void deleteAllocation(uint64_t id, std::string_view why);
  /// A silent drop: counted per worker and reported with its source.
  void drop(DropReason r, const SocketAddress& source);
  void relayToClient(Allocation& a, const SocketAddress& peer, std::span<const uint8_t> bytes);

  bool withinBandwidth(Allocation& a, Direction d, size_t bytes, Instant now) {
    return turn::withinBandwidth(a, d, bytes, now, policy_->quotas.maxBps);
  }
  /// A new policy generation applied to live allocations: blocked users'
  /// allocations end, denied permissions, channels and TCP connections go.
  void applyPolicyToAllocations();

  // Usage and volume (turn_server_usage.cc): once per 1 s tick, never per packet.
  /// quotas.bytes_per_user: charges the byte growth of every allocation to
  /// its user, then stops relaying for allocations of users over the limit.
  void chargeVolume(Instant now);
  /// Charges what `a` relayed since the last tick (its end).
  void settleVolume(Allocation& a);
  void stopRelaying(Allocation& a, uint64_t used, uint64_t limit);
  /// 486 for a request that would keep an over-volume user relaying
  /// (Allocate, Refresh other than LIFETIME 0, CreatePermission, ChannelBind, Connect).
  bool overVolume(const Request& req) const;
  /// usage.interval passed: onUsageInterval for every allocation.
  void reportUsage(Instant now);

  ServerDeps deps_;
  std::shared_ptr<const policy::PolicySnapshot> policy_;
  AllocationTable table_;
  TcpConnectionTable tcp_;
  WorkerCounters counters_;
  AllocationIds ids_;
  bool draining_ = false;
  Instant nextUsage_{};       ///< when the next interim usage records are due
  std::vector<uint8_t> out_;  // reused response/encode buffer
  /// This worker's MAC state: nonces, REST keys, MESSAGE-INTEGRITY in and out.
  MacEngine macs_;
  std::unique_ptr<SharedLimits> ownShared_;
  SharedLimits* shared_;
  RateLimiter rates_;
};

}  // namespace tw::turn
