// Allocate (RFC 8656 §7.2, RFC 6062 §5.1) through the socket-less pipeline:
// every error code the handler can answer, the replay of a retransmission,
// and the relay socket it asks the edge for.
#include <catch2/catch.hpp>

#include "tests/relay/turn/handler_bench.h"
#include "tests/support/turn_pipeline.h"

using namespace tw;
using tw::stun::Method;
using tw::testing::Pipeline;
using tw::testing::PipelineClient;
using B = tw::stun::MessageBuilder;

namespace {
int allocateCode(Pipeline& p, const PipelineClient::AddAttrs& extra, uint8_t transport = 17,
                 Transport t = Transport::Udp) {
  auto c = PipelineClient::authed(p, "alice", "203.0.113.5:40000", t);
  auto r = c.allocate(extra, transport);
  REQUIRE(r);
  return r->code;
}
void family(B& b, uint16_t type, uint8_t f) { b.addAddressFamily(type, f); }
}  // namespace

TEST_CASE("handle_allocate: success opens one relay socket and answers its address") {
  Pipeline p;
  auto c = PipelineClient::authed(p);
  auto r = c.allocate();
  REQUIRE(r);
  REQUIRE(r->code == 0);
  auto m = r->msg();
  auto relayed = m.xorRelayedAddress();
  REQUIRE(relayed);
  CHECK(relayed->ip == *IpAddress::parse("192.0.2.1"));
  CHECK(relayed->port >= Pipeline::kFirstPort);
  CHECK(relayed->port <= Pipeline::kLastPort);
  CHECK(m.lifetime() == 600u);
  CHECK(m.xorMappedAddress() == c.tuple().client);
  CHECK(m.hasMessageIntegrity());
  REQUIRE(p.io.relays.size() == 1);
  CHECK(p.io.relays.begin()->second.local == *relayed);
  CHECK(p.server->allocations().find(c.tuple()) != nullptr);
}

TEST_CASE("handle_allocate: a retransmission gets the same bytes, another transaction 437") {
  Pipeline p;
  auto c = PipelineClient::authed(p);
  REQUIRE(c.refresh(600)->code == 437);  // learns the nonce; no allocation yet
  const auto udp = [](B& b) { b.addRequestedTransport(17); };
  const stun::TransactionId txn = c.newTransactionId();
  auto first = p.exchange(c.tuple(), c.build(Method::Allocate, udp, true, &txn));
  REQUIRE(first);
  REQUIRE(first->code == 0);
  auto again = p.exchange(c.tuple(), c.build(Method::Allocate, udp, true, &txn));
  REQUIRE(again);
  CHECK(again->bytes == first->bytes);
  CHECK(p.io.relays.size() == 1);  // no second socket
  auto other = p.exchange(c.tuple(), c.build(Method::Allocate, udp, true));
  REQUIRE(other);
  CHECK(other->code == 437);
  // The same transaction under another user's credentials: 441.
  auto [name, pass] = p.credential("mallory");
  c.setCredentials(name, pass);
  auto stolen = p.exchange(c.tuple(), c.build(Method::Allocate, udp, true, &txn));
  REQUIRE(stolen);
  CHECK(stolen->code == 441);
}

TEST_CASE("handle_allocate: 400 for malformed attribute combinations") {
  Pipeline p;
  CHECK(allocateCode(p, {}, 0) == 442);
  Pipeline q;
  auto c = PipelineClient::authed(q);
  auto noTransport = c.request(Method::Allocate);
  REQUIRE(noTransport);
  CHECK(noTransport->code == 400);
  const uint64_t token = 0x0102030405060708ULL;
  CHECK(allocateCode(q, [&](B& b) {
          b.addEvenPort(false);
          b.addU64(stun::attr::ReservationToken, token);
        }) == 400);  // even_port_with_token
  CHECK(allocateCode(q, [&](B& b) {
          family(b, stun::attr::RequestedAddressFamily, 1);
          b.addU64(stun::attr::ReservationToken, token);
        }) == 400);  // family_with_token
  CHECK(allocateCode(q, [&](B& b) {
          family(b, stun::attr::RequestedAddressFamily, 1);
          family(b, stun::attr::AdditionalAddressFamily, 2);
        }) == 400);  // two_family_attributes
  CHECK(allocateCode(q, [&](B& b) { family(b, stun::attr::AdditionalAddressFamily, 1); }) ==
        400);  // bad_additional_family
  CHECK(allocateCode(q, [&](B& b) {
          const uint8_t v[2] = {1, 0};
          b.addBytes(stun::attr::RequestedAddressFamily, v);
        }) == 400);  // bad_address_family
  CHECK(q.io.relays.empty());
}

TEST_CASE("handle_allocate: 442 for unknown transports and for TCP when relay.tcp is off") {
  Pipeline p;
  CHECK(allocateCode(p, {}, 132) == 442);
  Pipeline noTcp;
  noTcp.config.relay.tcp = false;
  noTcp.server->setPolicy(policy::buildSnapshot(noTcp.config, 9, {noTcp.listener}));
  CHECK(allocateCode(noTcp, {}, 6, Transport::Tcp) == 442);
}

TEST_CASE("handle_allocate: TCP allocations need a stream and no UDP-only attributes") {
  Pipeline p;
  CHECK(allocateCode(p, {}, 6, Transport::Udp) == 400);  // tcp_allocation_over_udp
  CHECK(allocateCode(
            p, [](B& b) { b.addEvenPort(false); }, 6, Transport::Tcp) == 400);
  CHECK(allocateCode(
            p, [](B& b) { family(b, stun::attr::AdditionalAddressFamily, 2); }, 6,
            Transport::Tcp) == 400);  // dual_tcp_allocation
  CHECK(allocateCode(p, {}, 6, Transport::Tcp) == 0);
  REQUIRE(p.io.relays.size() == 1);
  CHECK(p.io.relays.begin()->second.tcp);
}

TEST_CASE("handle_allocate: 440 for a family the server does not relay") {
  Pipeline p;  // IPv4 relay address only
  CHECK(allocateCode(p, [](B& b) { family(b, stun::attr::RequestedAddressFamily, 2); }) == 440);
  CHECK(allocateCode(p, [](B& b) { family(b, stun::attr::RequestedAddressFamily, 3); }) == 440);
  // An additional IPv6 family that cannot be served: success with ADDRESS-ERROR-CODE 440.
  auto c = PipelineClient::authed(p, "dual", "203.0.113.9:1");
  auto r = c.allocate([](B& b) { family(b, stun::attr::AdditionalAddressFamily, 2); });
  REQUIRE(r);
  CHECK(r->code == 0);
  auto aec = r->msg().valueOf(stun::attr::AddressErrorCode);
  REQUIRE(aec);
  CHECK((*aec)[2] * 100 + (*aec)[3] == 440);
}

TEST_CASE("handle_allocate: 486 over quota, 403 blocked, 508 while draining") {
  Pipeline p("quotas: {per_user: 1}\n");
  auto a1 = PipelineClient::authed(p, "alice", "203.0.113.5:1");
  REQUIRE(a1.allocate()->code == 0);
  PipelineClient a2(p, p.tuple("203.0.113.5:2"));
  a2.setCredentials(a1.username(), p.credential("alice").second);
  CHECK(a2.allocate()->code == 486);  // same credential, same IP
  p.server->setDraining(true);
  CHECK(PipelineClient::authed(p, "bob", "203.0.113.6:1").allocate()->code == 508);
  p.server->setDraining(false);
  p.config.auth.blockedUsers = {"eve"};
  p.server->setPolicy(policy::buildSnapshot(p.config, 7, {p.listener}));
  CHECK(PipelineClient::authed(p, "eve", "203.0.113.7:1").allocate()->code == 403);
}

TEST_CASE("handle_allocate: 508 when the port pool is exhausted or no port can be bound") {
  Pipeline p;
  const int ports = Pipeline::kLastPort - Pipeline::kFirstPort + 1;
  for (int i = 0; i < ports; ++i)
    REQUIRE(PipelineClient::authed(p, "u" + std::to_string(i),
                                   "203.0.113." + std::to_string(1 + i / 50) + ":" + std::to_string(1000 + i))
                .allocate()
                ->code == 0);
  CHECK(PipelineClient::authed(p, "late", "203.0.113.99:1").allocate()->code == 508);

  Pipeline q;  // every bind fails (another process holds every port)
  for (uint16_t port = Pipeline::kFirstPort; port <= Pipeline::kLastPort; ++port)
    q.io.failBind[SocketAddress{*IpAddress::parse("192.0.2.1"), port}] = 98;
  CHECK(PipelineClient::authed(q).allocate()->code == 508);  // relay_bind_failed
  CHECK(q.server->shared().quotas.total() == 0);             // the quota was given back
}

TEST_CASE("handle_allocate: EVEN-PORT R=1 reserves the next port under a token, 508 for a bad token") {
  Pipeline p;
  auto c = PipelineClient::authed(p, "even", "203.0.113.5:1");
  auto r = c.allocate([](B& b) { b.addEvenPort(true); });
  REQUIRE(r->code == 0);
  const auto relayed = *r->msg().xorRelayedAddress();
  CHECK(relayed.port % 2 == 0);
  auto token = r->msg().reservationToken();
  REQUIRE(token);
  auto d = PipelineClient::authed(p, "odd", "203.0.113.5:2");
  auto paired = d.allocate([&](B& b) { b.addU64(stun::attr::ReservationToken, *token); });
  REQUIRE(paired->code == 0);
  CHECK(paired->msg().xorRelayedAddress()->port == relayed.port + 1);
  auto e = PipelineClient::authed(p, "bad", "203.0.113.5:3");
  CHECK(e.allocate([&](B& b) { b.addU64(stun::attr::ReservationToken, *token); })->code == 508);
}

// handleAllocate called directly (tests/relay/turn/handler_bench.h): the
// Outcome, the reason of every refusal, and what it left in the table, the
// port pool and the quota book.
namespace {
using tw::testing::answer;
using tw::testing::describe;
using tw::testing::HandlerBench;

turn::Outcome allocateOutcome(HandlerBench& h, const HandlerBench::AddAttrs& add, const FiveTuple& from,
                              bool draining = false) {
  auto req = h.request(Method::Allocate, add, from);
  auto d = h.allocateDeps(draining);
  return turn::handleAllocate(req, d);
}
std::string allocateWith(HandlerBench& h, const HandlerBench::AddAttrs& add, const FiveTuple& from,
                         bool draining = false) {
  return answer(allocateOutcome(h, add, from, draining));
}
std::string allocateWith(HandlerBench& h, const HandlerBench::AddAttrs& add) {
  return allocateWith(h, add, h.tuple());
}
HandlerBench::AddAttrs transport(uint8_t proto, const HandlerBench::AddAttrs& more = {}) {
  return [=](B& b) {
    b.addRequestedTransport(proto);
    if (more) more(b);
  };
}
}  // namespace

TEST_CASE("handleAllocate: stores the allocation, takes a port and a quota, answers the attributes") {
  HandlerBench h;
  const turn::Outcome o = allocateOutcome(h, transport(17), h.tuple());
  REQUIRE(answer(o) == "success");
  turn::Allocation* a = h.table.find(h.tuple());
  REQUIRE(a);
  CHECK(o.attrs.relayed == a->advertised);
  CHECK(o.attrs.lifetime == 600u);
  CHECK(o.attrs.mapped == h.tuple().client);
  CHECK_FALSE(o.attrs.reservationToken);
  CHECK(a->username == HandlerBench::kUsername);
  CHECK(a->expires == h.clock.now() + std::chrono::minutes(10));
  CHECK(h.quotas.total() == 1);
  CHECK(h.relays.endpoints()[0].pool->inUse() == 1);
  CHECK(h.io.relays.size() == 1);
  CHECK(describe(o) == std::vector<std::string>{"allocation_created"});
  CHECK(a->id == 1);  // worker 0 of 1: ids 1, 2, ...
}

TEST_CASE("handleAllocate: a retransmission gets the stored answer, 437 and 441 otherwise") {
  HandlerBench h;
  auto req = h.request(Method::Allocate, transport(17));
  auto d = h.allocateDeps();
  const turn::Outcome first = turn::handleAllocate(req, d);
  REQUIRE(answer(first) == "success");
  auto again = req;
  again.alloc = h.table.find(h.tuple());
  const turn::Outcome replay = turn::handleAllocate(again, d);
  CHECK(answer(replay) == "success");
  CHECK(replay.attrs.relayed == first.attrs.relayed);
  CHECK(h.io.relays.size() == 1);
  auto other = h.request(Method::Allocate, transport(17));  // another transaction
  CHECK(answer(turn::handleAllocate(other, d)) == "437 allocation_mismatch");
  again.auth.username = "1700003600:mallory";
  CHECK(answer(turn::handleAllocate(again, d)) == "441 wrong_credentials");
}

TEST_CASE("handleAllocate: 400 and 442 for the attributes, before any port or quota is taken") {
  HandlerBench h;
  const uint64_t token = 0x0102030405060708ULL;
  CHECK(allocateWith(h, {}) == "400 missing_requested_transport");
  CHECK(allocateWith(h, transport(132)) == "442 unsupported_transport");
  CHECK(allocateWith(h, transport(17, [&](B& b) {
                       b.addEvenPort(false);
                       b.addU64(stun::attr::ReservationToken, token);
                     })) == "400 even_port_with_token");
  CHECK(allocateWith(h, transport(17, [&](B& b) {
                       family(b, stun::attr::RequestedAddressFamily, 1);
                       b.addU64(stun::attr::ReservationToken, token);
                     })) == "400 family_with_token");
  CHECK(allocateWith(h, transport(17, [&](B& b) {
                       family(b, stun::attr::AdditionalAddressFamily, 2);
                       b.addU64(stun::attr::ReservationToken, token);
                     })) == "400 family_with_token");
  CHECK(allocateWith(h, transport(17, [](B& b) {
                       family(b, stun::attr::RequestedAddressFamily, 1);
                       family(b, stun::attr::AdditionalAddressFamily, 2);
                     })) == "400 two_family_attributes");
  CHECK(allocateWith(h, transport(17, [](B& b) { family(b, stun::attr::AdditionalAddressFamily, 1); })) ==
        "400 bad_additional_family");
  CHECK(allocateWith(h, transport(17, [](B& b) {
                       const uint8_t v[2] = {1, 0};
                       b.addBytes(stun::attr::RequestedAddressFamily, v);
                     })) == "400 bad_address_family");
  CHECK(allocateWith(h, transport(17, [](B& b) { family(b, stun::attr::RequestedAddressFamily, 3); })) ==
        "440 family_not_supported");
  CHECK(allocateWith(h, transport(17, [](B& b) { family(b, stun::attr::RequestedAddressFamily, 2); })) ==
        "440 family_not_supported");  // no IPv6 relay address
  CHECK(h.quotas.total() == 0);
  CHECK(h.io.relays.empty());
  CHECK(h.table.size() == 0);
}

TEST_CASE("handleAllocate: TCP allocations need relay.tcp, a stream and no UDP-only attributes") {
  HandlerBench h;
  const auto tcp = h.tuple("203.0.113.5:1", Transport::Tcp);
  CHECK(allocateWith(h, transport(6), h.tuple()) == "400 tcp_allocation_over_udp");
  CHECK(allocateWith(h, transport(6, [](B& b) { b.addEvenPort(false); }), tcp) ==
        "400 udp_attribute_in_tcp_allocation");
  CHECK(allocateWith(h, transport(6, [](B& b) { family(b, stun::attr::AdditionalAddressFamily, 2); }), tcp) ==
        "400 dual_tcp_allocation");
  HandlerBench off;
  off.config.relay.tcp = false;
  off.rebuildPolicy();
  CHECK(allocateWith(off, transport(6), off.tuple("203.0.113.5:1", Transport::Tcp)) ==
        "442 tcp_relay_disabled");
  CHECK(allocateWith(h, transport(6), tcp) == "success");
  REQUIRE(h.io.relays.size() == 1);
  CHECK(h.io.relays.begin()->second.tcp);
  CHECK(h.table.find(tcp)->tcp);
}

TEST_CASE("handleAllocate: 508 while draining, 486 over quota with nothing left behind") {
  HandlerBench h("quotas: {per_user: 1}\n");
  CHECK(allocateWith(h, transport(17), h.tuple(), true) == "508 draining");
  CHECK(allocateWith(h, transport(17), h.tuple("203.0.113.5:1")) == "success");
  CHECK(allocateWith(h, transport(17), h.tuple("203.0.113.5:2")) == "486 user_quota");
  CHECK(h.quotas.total() == 1);
  CHECK(h.io.relays.size() == 1);
  CHECK(h.relays.endpoints()[0].pool->inUse() == 1);
}

TEST_CASE("handleAllocate: 508 when the pool is exhausted or no port binds, the quota given back") {
  HandlerBench h;
  const int ports = Pipeline::kLastPort - Pipeline::kFirstPort + 1;
  for (int i = 0; i < ports; ++i)
    REQUIRE(allocateWith(h, transport(17), h.tuple("203.0.113." + std::to_string(1 + i) + ":1000")) ==
            "success");  // one credential, many clients: per_user counts per client IP
  CHECK(allocateWith(h, transport(17), h.tuple("203.0.113.6:1")) == "508 port_pool_exhausted");
  CHECK(h.quotas.total() == size_t(ports));

  HandlerBench busy;
  for (uint16_t port = Pipeline::kFirstPort; port <= Pipeline::kLastPort; ++port)
    busy.io.failBind[SocketAddress{*IpAddress::parse("192.0.2.1"), port}] = 98;
  CHECK(allocateWith(busy, transport(17)) == "508 relay_bind_failed");
  CHECK(busy.quotas.total() == 0);
  // The 16 ports tried are quarantined for a minute, then back in the pool.
  turn::PortPool& pool = *busy.relays.endpoints()[0].pool;
  CHECK(pool.inUse() == 16);
  pool.expireReservations(busy.clock.now() + std::chrono::minutes(1));
  CHECK(pool.inUse() == 0);
}

TEST_CASE("handleAllocate: EVEN-PORT R=1 reserves port+1 under a token, 508 for a bad or failed token") {
  HandlerBench h;
  const turn::Outcome even = allocateOutcome(h, transport(17, [](B& b) { b.addEvenPort(true); }), h.tuple());
  REQUIRE(answer(even) == "success");
  REQUIRE(even.attrs.reservationToken);
  CHECK(even.attrs.relayed->port % 2 == 0);
  const uint64_t token = *even.attrs.reservationToken;
  const auto withToken = transport(17, [&](B& b) { b.addU64(stun::attr::ReservationToken, token); });
  // The reserved port is held by someone else: 508, and the port goes back.
  const SocketAddress next{even.attrs.relayed->ip, uint16_t(even.attrs.relayed->port + 1)};
  h.io.failBind[next] = 98;
  CHECK(allocateWith(h, withToken, h.tuple("203.0.113.5:2")) == "508 relay_bind_failed");
  CHECK(allocateWith(h, withToken, h.tuple("203.0.113.5:3")) == "508 bad_reservation_token");
  CHECK(h.quotas.total() == 1);
}

TEST_CASE("handleAllocate: ADDITIONAL-ADDRESS-FAMILY gets a second relayed address, or its error") {
  const auto dual = transport(17, [](B& b) { family(b, stun::attr::AdditionalAddressFamily, 2); });
  HandlerBench h("", true);  // IPv6 relay with two ports
  const turn::Outcome o = allocateOutcome(h, dual, h.tuple());
  REQUIRE(answer(o) == "success");
  REQUIRE(o.attrs.relayed2);
  CHECK(o.attrs.relayed2->ip.family() == Family::V6);
  CHECK(o.attrs.addressError.empty());
  CHECK(h.table.find(h.tuple())->servesFamily(Family::V6));
  // Both IPv6 ports taken: the IPv4 allocation stands, ADDRESS-ERROR-CODE says 508.
  REQUIRE(allocateWith(h, dual, h.tuple("203.0.113.5:2")) == "success");
  const turn::Outcome full = allocateOutcome(h, dual, h.tuple("203.0.113.5:3"));
  REQUIRE(answer(full) == "success");
  CHECK_FALSE(full.attrs.relayed2);
  REQUIRE(full.attrs.addressError.size() >= 4);
  CHECK(full.attrs.addressError[2] * 100 + full.attrs.addressError[3] == 508);
  // No IPv6 relay at all: 440 in ADDRESS-ERROR-CODE.
  HandlerBench v4;
  const turn::Outcome none = allocateOutcome(v4, dual, v4.tuple());
  REQUIRE(answer(none) == "success");
  CHECK(none.attrs.addressError[2] * 100 + none.attrs.addressError[3] == 440);
}
