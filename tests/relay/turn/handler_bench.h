#pragma once
// The handlers of relay/turn/handlers.h called directly, without TurnServer:
// the state a worker hands them (allocation table, port pool, quota book,
// TCP connection table, counters), a FakeIoPort, a ManualClock and seeded
// randomness. A handler reports nothing itself: the events it saw are in
// its Outcome (describe() in tests/support/recording_events.h). Requests
// are built and decoded as the pipeline would; the auth gate does not run,
// the context says who passed it. What only the pipeline answers (401/438, 420, 437, 441, a blocked
// user) is tested through tests/support/turn_pipeline.h instead.
#include <catch2/catch.hpp>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "relay/turn/handlers.h"
#include "tests/relay/turn/pipeline_fixtures.h"
#include "tests/support/recording_events.h"

namespace tw::testing {

class HandlerBench {
 public:
  using AddAttrs = std::function<void(stun::MessageBuilder&)>;
  static constexpr const char* kUsername = "1700003600:alice";

  /// `extraYaml` as in pipelineConfig(); `v6Relay` adds an IPv6 relay
  /// address (2001:db8::2, ports 50000-50001) next to 192.0.2.1.
  explicit HandlerBench(const std::string& extraYaml = "", bool v6Relay = false)
      : config(pipelineConfig(extraYaml)) {
    relays.add(config.relay.addresses[0], config.relay.addresses[0], config.relay.portMin,
               config.relay.portMax);
    if (v6Relay) {
      const auto v6 = *IpAddress::parse("2001:db8::2");
      relays.add(v6, v6, 50000, 50001);
    }
    rebuildPolicy();
  }
  HandlerBench(const HandlerBench&) = delete;
  HandlerBench& operator=(const HandlerBench&) = delete;

  /// After a change to `config`: a new snapshot, as a reload makes.
  void rebuildPolicy() { policy = policy::buildSnapshot(config, ++generation_, {listener}); }

  FiveTuple tuple(const std::string& client = "203.0.113.5:40000", Transport t = Transport::Udp) const {
    return FiveTuple{*SocketAddress::parse(client), listener, t};
  }

  /// A request (or, with `cls`, an indication) of method `m` from `from`,
  /// decoded, signed in by kUsername, with the 5-tuple's allocation. The
  /// bench keeps the bytes, the message and the tuple alive.
  turn::RequestContext request(stun::Method m, const AddAttrs& add, const FiveTuple& from,
                               stun::MessageClass cls = stun::MessageClass::Request) {
    const FiveTuple& t = tuples_.emplace_back(from);
    auto& bytes = bytes_.emplace_back();
    stun::TransactionId txn{};
    txn[0] = static_cast<uint8_t>(bytes_.size());
    txn[1] = static_cast<uint8_t>(bytes_.size() >> 8);
    stun::MessageBuilder b(bytes, m, cls, txn);
    if (add) add(b);
    b.addFingerprint();
    const stun::Message& msg = messages_.emplace_back(stun::decode(bytes).value());
    return turn::RequestContext{t,      msg, clock.now(), {kUsername, "alice", turn::Key{}}, table.find(t),
                                *policy};
  }
  turn::RequestContext request(stun::Method m, const AddAttrs& add = {}) { return request(m, add, tuple()); }

  turn::PeerGate peers() { return {relays}; }
  turn::AllocateDeps allocateDeps(bool draining = false) {
    return {table, relays, quotas, io, rng, ids, draining};
  }
  turn::SendDeps sendDeps() { return {peers(), io, counters}; }
  turn::ConnectDeps connectDeps() { return {peers(), tcp, io, rng, counters}; }
  turn::ConnectionBindDeps bindDeps(uint32_t worker = 0) { return {tcp, table, worker}; }
  turn::TcpPeerDeps tcpPeerDeps() { return {relays, tcp, rng}; }
  turn::AdmissionDeps admissionDeps() { return {bans, rates, counters}; }

  /// Allocate from `from` (UDP, or TCP on a TCP 5-tuple); must succeed.
  turn::Allocation& allocate(const FiveTuple& from, uint8_t transport = 17, const AddAttrs& extra = {}) {
    auto req = request(
        stun::Method::Allocate,
        [&](stun::MessageBuilder& b) {
          b.addRequestedTransport(transport);
          if (extra) extra(b);
        },
        from);
    auto d = allocateDeps();
    const turn::Outcome o = turn::handleAllocate(req, d);
    REQUIRE(o.kind == turn::Outcome::Kind::Success);
    return *table.find(from);
  }
  turn::Allocation& allocate() { return allocate(tuple()); }

  /// Notes the events `o` carries in `reported` (describe()) and returns it.
  const turn::Outcome& keep(const turn::Outcome& o) {
    for (auto& line : describe(o)) reported.push_back(std::move(line));
    return o;
  }
  /// The events of every Outcome passed through keep(), in order.
  std::vector<std::string> reported;

  ManualClock clock;
  SeededRandom rng{1};
  FakeIoPort io;
  turn::RelayAddresses relays;
  policy::Config config;
  SocketAddress listener = *SocketAddress::parse("198.51.100.1:3478");
  std::shared_ptr<const policy::PolicySnapshot> policy;
  turn::AllocationTable table;
  turn::QuotaBook quotas;
  turn::TcpConnectionTable tcp;
  turn::WorkerCounters counters;
  turn::AllocationIds ids;
  turn::BanTable bans{SipKey{11}, 4};
  turn::RateLimiter rates{SipKey{7}, 4};

 private:
  uint64_t generation_ = 0;
  std::deque<FiveTuple> tuples_;
  std::deque<std::vector<uint8_t>> bytes_;
  std::deque<stun::Message> messages_;
};

/// Adds XOR-PEER-ADDRESS for each of `peers`.
inline HandlerBench::AddAttrs withPeers(std::vector<SocketAddress> peers) {
  return [peers](stun::MessageBuilder& b) {
    for (const auto& p : peers) b.addXorAddress(stun::attr::XorPeerAddress, p);
  };
}

/// What a handler decided, as one comparable string: "success",
/// "deferred", "400 missing_peer_address", "drop no_permission".
inline std::string answer(const turn::Outcome& o) {
  switch (o.kind) {
    case turn::Outcome::Kind::Success:
      return "success";
    case turn::Outcome::Kind::Deferred:
      return "deferred";
    case turn::Outcome::Kind::Drop:
      return "drop " + std::string(turn::toString(o.drop));
    case turn::Outcome::Kind::Error:
      break;
  }
  return std::to_string(o.code) + " " + std::string(o.reason);
}

}  // namespace tw::testing
