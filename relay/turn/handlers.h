#pragma once
// The request handlers as free functions over narrow dependencies: one per
// method, each in its own file (handle_*.cc). A handler reads the request
// from a RequestContext, touches only the state its deps struct names, and
// returns an Outcome carrying its response attributes; it never encodes a
// message (respond.cc does, for every handler). TurnServer is the pipeline
// around them: classify, decode, auth gate, dispatch, respond. Tests call
// the handlers directly with a FakeIoPort and a ManualClock
// (tests/relay/turn/handle_*_test.cc).
#include <cstdint>
#include <functional>
#include <optional>
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
#include "relay/turn/counters.h"
#include "relay/turn/events.h"
#include "relay/turn/io_port.h"
#include "relay/turn/outcome.h"
#include "relay/turn/quota_book.h"
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

/// The peer rules as handlers apply them: a denial is reported as an event.
struct PeerGate {
  const RelayAddresses& relays;
  RelayEvents& events;
  /// The rule that denies `peer` for the request's allocation (reported
  /// through onPeerDenied), or nullopt.
  std::optional<std::string> deny(const RequestContext& req, const Allocation& a,
                                  const SocketAddress& peer) const;
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
  RelayEvents& events;
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

Outcome handleBinding(const RequestContext& req);
Outcome handleAllocate(const RequestContext& req, AllocateDeps& d);
Outcome handleRefresh(const RequestContext& req, const EndAllocation& end);
Outcome handleCreatePermission(const RequestContext& req, const PeerGate& peers);
Outcome handleChannelBind(const RequestContext& req, const PeerGate& peers);
/// A Send indication: never answered, so every failure is a drop.
Outcome handleSend(const RequestContext& ind, SendDeps& d);
/// Deferred on success: answered when connect() completes.
Outcome handleConnect(const RequestContext& req, ConnectDeps& d);
/// Success carries Outcome::tcpHandOver: the pipeline answers first, then
/// joins (or moves) the data connection.
Outcome handleConnectionBind(const RequestContext& req, ConnectionBindDeps& d);

/// Reads and vets the XOR-PEER-ADDRESS list of CreatePermission and
/// ChannelBind (handle_permission.cc).
Outcome collectPeers(const RequestContext& req, const PeerGate& rules, std::vector<SocketAddress>& peers);

}  // namespace tw::turn
