#include "relay/stun/integrity.h"

#include <catch2/catch.hpp>

#include "relay/base/crypto.h"
#include "relay/stun/builder.h"
#include "stun_test_util.h"

using namespace tw;
using namespace tw::stun;
using namespace tw::stun::testing;

namespace {

Message decoded(const std::vector<uint8_t>& m) {
  auto r = decode(m);
  REQUIRE(r.ok());
  return *r;
}

const std::vector<uint8_t> kKey = {'k', 'e', 'y', '!'};
const std::vector<uint8_t> kOtherKey = {'k', 'e', 'y', '?'};

std::vector<uint8_t> signedRequest() {
  std::vector<uint8_t> out;
  MessageBuilder(out, Method::Allocate, MessageClass::Request, makeTxid(1))
      .addRequestedTransport(kProtocolUdp)
      .addString(attr::Username, "alice")
      .addString(attr::Realm, "turnwarden")
      .addString(attr::Nonce, "abc")
      .addMessageIntegrity(kKey)
      .addMessageIntegritySha256(kKey)
      .addFingerprint();
  return out;
}

}  // namespace

TEST_CASE("MI and MI-SHA256 verify with the right key only") {
  const auto out = signedRequest();
  const Message m = decoded(out);
  CHECK(verifyMessageIntegrity(m, kKey));
  CHECK(verifyMessageIntegritySha256(m, kKey));
  CHECK_FALSE(verifyMessageIntegrity(m, kOtherKey));
  CHECK_FALSE(verifyMessageIntegritySha256(m, kOtherKey));
  CHECK_FALSE(verifyMessageIntegrity(m, std::span<const uint8_t>()));
  CHECK_FALSE(verifyMessageIntegritySha256(m, std::span<const uint8_t>()));
}

TEST_CASE("MI matches an independent computation over the adjusted message") {
  std::vector<uint8_t> out;
  MessageBuilder(out, Method::Refresh, MessageClass::Request, makeTxid(2))
      .addU32(attr::Lifetime, 0)
      .addMessageIntegrity(kKey)
      .addMessageIntegritySha256(kKey, 20);
  // MI: header length = everything up to the end of MI (20+8+24 - 20 = 32).
  std::vector<uint8_t> prefix(out.begin(), out.begin() + 28);
  put16(prefix, 2, 32);
  const auto mac = hmacSha1(kKey, prefix);
  CHECK(std::equal(mac.begin(), mac.end(), out.begin() + 32));
  // MI-SHA256 (truncated to 20): length up to its end (52 + 24 - 20 = 56).
  std::vector<uint8_t> prefix2(out.begin(), out.begin() + 52);
  put16(prefix2, 2, 56);
  const auto mac2 = hmacSha256(kKey, prefix2);
  CHECK(std::equal(mac2.begin(), mac2.begin() + 20, out.begin() + 56));
  const Message m = decoded(out);
  CHECK(verifyMessageIntegrity(m, kKey));
  CHECK(verifyMessageIntegritySha256(m, kKey));
}

TEST_CASE("truncated MI-SHA256 of every allowed length verifies") {
  for (size_t n : {16u, 20u, 24u, 28u, 32u}) {
    std::vector<uint8_t> out;
    MessageBuilder(out, Method::Binding, MessageClass::Request, makeTxid(3))
        .addString(attr::Username, "bob")
        .addMessageIntegritySha256(kKey, n)
        .addFingerprint();
    const Message m = decoded(out);
    CHECK(verifyMessageIntegritySha256(m, kKey));
    CHECK_FALSE(verifyMessageIntegritySha256(m, kOtherKey));
    CHECK_FALSE(verifyMessageIntegrity(m, kKey));  // absent
  }
}

TEST_CASE("tampering breaks verification") {
  auto out = signedRequest();
  SECTION("a covered byte") {
    out[33] ^= 0x01;  // inside the USERNAME value; drop the now-wrong FINGERPRINT
    out.resize(out.size() - 8);
    fixLength(out);
  }
  SECTION("the MAC itself") {
    const Message m = decoded(out);
    const size_t mi = m.find(attr::MessageIntegrity)->offset;
    const size_t sha = m.find(attr::MessageIntegritySha256)->offset;
    out[mi] ^= 0x80;
    out[sha + 31] ^= 0x01;
    out.resize(out.size() - 8);
    fixLength(out);
  }
  const Message m = decoded(out);
  CHECK_FALSE(verifyMessageIntegrity(m, kKey));
  CHECK_FALSE(verifyMessageIntegritySha256(m, kKey));
}

TEST_CASE("verification is false when the attributes are absent") {
  std::vector<uint8_t> out;
  MessageBuilder(out, Method::Binding, MessageClass::Request, makeTxid(4)).addFingerprint();
  const Message m = decoded(out);
  CHECK_FALSE(verifyMessageIntegrity(m, kKey));
  CHECK_FALSE(verifyMessageIntegritySha256(m, kKey));
  CHECK_FALSE(verifyMessageIntegrity(Message{}, kKey));
}

TEST_CASE("long-term keys and USERHASH (known answers from Python hashlib)") {
  CHECK(hexEncode(longTermKey("alice", "turnwarden", "s3cret")) == "96df292b97ec4d2c7f9950b9fe5977d5");
  CHECK(hexEncode(longTermKeySha256("alice", "turnwarden", "s3cret")) ==
        "27372eabb6116c2683de10adfc6c2e161112a9747da339b2cbcdcfff6ad59e7d");
  CHECK(hexEncode(userhashOf("alice", "turnwarden")) ==
        "8ab75c7f1b09754bddbee85962fa85ae396cd0e07153fd178005595d171761f1");
  // RFC 8489 Appendix B.1 USERHASH for the RFC 5769 2.4 user and realm.
  CHECK(hexEncode(userhashOf("\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9",
                             "example.org")) ==
        "4a3cf38fef6992bda952c6780417da0f24819415569e60b205c46e41407f1704");
  CHECK(longTermKey("a", "b:c", "") != longTermKey("a:b", "c", "x"));
}
