// Binding (RFC 8489 §6.3.1) through the socket-less pipeline.
#include <catch2/catch.hpp>

#include "tests/relay/turn/handler_bench.h"
#include "tests/support/turn_pipeline.h"

using namespace tw;
using tw::stun::Method;
using tw::testing::Pipeline;
using tw::testing::PipelineClient;

TEST_CASE("handle_binding: success reflects the source, nothing else, no credentials needed") {
  Pipeline p;
  PipelineClient c(p, p.tuple("203.0.113.7:4242"));
  auto r = c.request(Method::Binding);
  REQUIRE(r);
  CHECK(r->code == 0);
  auto m = r->msg();
  CHECK(m.xorMappedAddress() == SocketAddress::parse("203.0.113.7:4242"));
  CHECK_FALSE(m.hasMessageIntegrity());
  CHECK(m.hasFingerprint());  // mirrors the request
  CHECK_FALSE(m.software());
}

TEST_CASE("handle_binding: 420 for an unknown comprehension-required attribute") {
  Pipeline p;
  PipelineClient c(p, p.tuple());
  auto r = c.request(Method::Binding, [](stun::MessageBuilder& b) {
    const uint8_t v[4] = {1, 2, 3, 4};
    b.addBytes(0x0033, v);  // comprehension-required range, unknown
  });
  REQUIRE(r);
  CHECK(r->code == 420);
  auto unknown = r->msg().valueOf(stun::attr::UnknownAttributes);
  REQUIRE(unknown);
  REQUIRE(unknown->size() == 2);
  CHECK(((*unknown)[0] << 8 | (*unknown)[1]) == 0x0033);
}

TEST_CASE("handle_binding: responses and malformed datagrams are dropped, never answered") {
  Pipeline p;
  const auto t = p.tuple();
  std::vector<uint8_t> resp;
  stun::MessageBuilder(resp, Method::Binding, stun::MessageClass::SuccessResponse, stun::TransactionId{});
  CHECK(p.feed(t, resp).empty());
  const std::vector<uint8_t> junk{0x00, 0x01, 0x00, 0x04, 1, 2, 3};
  CHECK(p.feed(t, junk).empty());
  CHECK(p.server->counters().dropped(turn::DropReason::UnexpectedClass) == 1);
  CHECK(p.server->counters().dropped(turn::DropReason::Malformed) == 1);
}

TEST_CASE("handleBinding: the answer is XOR-MAPPED-ADDRESS of the source and nothing else") {
  tw::testing::HandlerBench h;
  auto req = h.request(Method::Binding, {}, h.tuple("[2001:db8::7]:9"));
  const turn::Outcome o = turn::handleBinding(req);
  CHECK(tw::testing::answer(o) == "success");
  CHECK(o.attrs.mapped == SocketAddress::parse("[2001:db8::7]:9"));
  CHECK_FALSE(o.attrs.relayed);
  CHECK_FALSE(o.attrs.lifetime);
  CHECK(h.io.toClient.empty());  // handlers never send: respond() does
}
