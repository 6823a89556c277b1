#pragma once
// The request handlers as free functions over narrow dependencies: one per
// method, each in its own file (handle_*.cc). A handler reads the request
// from a RequestContext, touches only the state its deps struct names, and
// returns an Outcome carrying its response attributes and the events it saw;
// it never encodes a message nor reports an event (respond.cc does both, for
// every handler). Admission (handle_admission.cc) is handlers too: a verdict
// per datagram before decode, Outcomes around the auth gate. TurnServer is
// the pipeline around them: admit, classify, decode, auth gate, dispatch,
// respond. Tests call the handlers directly with a FakeIoPort and a
// ManualClock (tests/relay/turn/handle_*_test.cc).
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy/snapshot.h"
#include "relay/base/address.h"
#include "relay/base/clock.h"
#include "relay/base/random.h"
#include "relay/stun/message.h"
#include "relay/turn/allocation.h"
#include "relay/turn/allocation_table.h"
#include "relay/turn/ban_table.h"
#include "relay/turn/counters.h"
#include "relay/turn/io_port.h"
#include "relay/turn/outcome.h"
#include "relay/turn/quota_book.h"
#include "relay/turn/rate_limiter.h"
#include "relay/turn/relay_addresses.h"
#include "relay/turn/tcp_connections.h"
#include "relay/turn/worker_id.h"

namespace tw::turn {

/// Who passed the auth gate (empty before it, and for Binding and Send).
struct AuthContext {
  std::string username;
  std::string user;
  Key key{};
};

/// One request (or Send indication) as the handlers see it.
struct RequestContext {
  const FiveTuple& tuple;
  const stun::Message& msg;
  Instant now;
  AuthContext auth;
  Allocation* alloc = nullptr;  ///< the 5-tuple's allocation, if any
  const policy::PolicySnapshot& policy;
};

/// nullopt when `peer` may be relayed to from `a`; else the rule that denied
/// it. Live relayed addresses of this server pass (relay-to-relay).
std::optional<std::string> peerDenied(const policy::PolicySnapshot& policy, const RelayAddresses& relays,
                                      const Allocation& a, const SocketAddress& peer);

/// quotas.max_bps per allocation and direction (`maxBps` 0: unlimited).
bool withinBandwidth(Allocation& a, Direction d, size_t bytes, Instant now, uint64_t maxBps);

/// The peer rules as handlers apply them. A handler that refuses a peer
/// adds a PeerDenied event with the rule as the Outcome's detail.
struct PeerGate {
  const RelayAddresses& relays;
  /// The rule that denies `peer` for the request's allocation, or nullopt.
  std::optional<std::string> deny(const RequestContext& req, const Allocation& a,
                                  const SocketAddress& peer) const {
    return peerDenied(req.policy, relays, a, peer);
  }
};

/// Allocation ids of one worker (WorkerId::allocationId), in sequence.
struct AllocationIds {
  WorkerId worker{};
  uint64_t next = 1;
  uint64_t take() { return worker.allocationId(next++); }
};

struct AllocateDeps {
  AllocationTable& table;
  RelayAddresses& relays;  ///< the port pools, one per relay address
  QuotaBook& quotas;
  IoPort& io;
  Random& rng;
  AllocationIds& ids;
  bool draining = false;  ///< new allocations get 508 (rolling restart)
};

/// Ends an allocation with everything it holds (TurnServer::deleteAllocation).
using EndAllocation = std::function<void(uint64_t id, std::string_view why)>;

struct SendDeps {
  PeerGate peers;
  IoPort& io;
  WorkerCounters& counters;
};

struct ConnectDeps {
  PeerGate peers;
  TcpConnectionTable& tcp;
  IoPort& io;
  Random& rng;
  WorkerCounters& counters;
};

struct ConnectionBindDeps {
  TcpConnectionTable& tcp;
  AllocationTable& table;
  uint32_t worker = 0;  ///< this worker's index
};

/// A peer's connection to a TCP allocation's relayed address (RFC 6062 §5.3).
struct TcpPeerContext {
  Allocation& alloc;
  const SocketAddress& peer;
  Instant now;
  const policy::PolicySnapshot& policy;
};

struct TcpPeerDeps {
  const RelayAddresses& relays;
  TcpConnectionTable& tcp;
  Random& rng;
};

/// One datagram from a client before decode, as admission sees it.
struct DatagramContext {
  const FiveTuple& tuple;
  std::span<const uint8_t> bytes;
  Instant now;
  const policy::PolicySnapshot& policy;
};

/// Admission's verdict on a datagram: admitted, or dropped for `reason`
/// (the pipeline's drop() counts and reports it).
struct Admission {
  bool admitted = true;
  DropReason reason = DropReason::Malformed;
  static Admission admit() { return {}; }
  static Admission refuse(DropReason r) { return {false, r}; }
};

struct AdmissionDeps {
  BanTable& bans;      ///< shared by every worker
  RateLimiter& rates;  ///< this worker's
  WorkerCounters& counters;
};

Outcome handleBinding(const RequestContext& req);
Outcome handleAllocate(const RequestContext& req, AllocateDeps& d);
Outcome handleRefresh(const RequestContext& req, const EndAllocation& end);
Outcome handleCreatePermission(const RequestContext& req, const PeerGate& peers);
Outcome handleChannelBind(const RequestContext& req, const PeerGate& peers);
/// A Send indication: never answered, so every failure is a drop.
Outcome handleSend(const RequestContext& ind, SendDeps& d);
/// Deferred on success: answered when connect() completes.
Outcome handleConnect(const RequestContext& req, ConnectDeps& d);
/// The connect() of Connect `c` (Connecting) finished: the deferred answer,
/// success with its CONNECTION-ID (the connection waits for its
/// ConnectionBind), or 447.
Outcome handleConnectDone(TcpConnection& c, bool ok, Instant now, TcpConnectionTable& tcp);
/// Success carries Outcome::tcpHandOver: the pipeline answers first, then
/// joins (or moves) the data connection.
Outcome handleConnectionBind(const RequestContext& req, ConnectionBindDeps& d);
/// A ConnectionBind taken on another worker moved its data connection here,
/// the owner of peer connection `id`: true (now Bound) when it still waits.
bool handleMovedBind(uint32_t id, ConnectionBindDeps& d);
/// Success carries the new CONNECTION-ID (respond.cc sends the
/// ConnectionAttempt indication); a refused peer is a drop.
Outcome handleTcpPeer(const TcpPeerContext& p, TcpPeerDeps& d);

// Admission (handle_admission.cc, docs/policy.md).
/// Before decode: a banned source or a request over rate_limits is dropped.
Admission admitDatagram(const DatagramContext& dg, AdmissionDeps& d);
/// After the auth gate refused `gate`: a 401 other than the challenge
/// counts toward bans.failed_auth (a Banned event when it bans), and a
/// 401/438 over the unauthenticated rate becomes a drop (no reflection).
Outcome admitAuthFailure(const RequestContext& req, Outcome gate, AdmissionDeps& d);
/// After the auth gate: auth.blocked_users get 403 on Allocate and Refresh.
Outcome admitUser(const RequestContext& req);
/// Allocate's reservation in the quota book (per credential and IP, per IP,
/// total, total_bps), before a port is taken: 486 when over.
Outcome admitAllocation(const RequestContext& req, QuotaBook& quotas);

/// Reads and vets the XOR-PEER-ADDRESS list of CreatePermission and
/// ChannelBind (handle_permission.cc).
Outcome collectPeers(const RequestContext& req, const PeerGate& rules, std::vector<SocketAddress>& peers);

}  // namespace tw::turn
