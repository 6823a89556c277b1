// RFC 5769 test vectors: decode, check every field, verify MI and
// FINGERPRINT, and re-encode with the builder.
#include "tests/vectors/rfc5769.h"

#include <catch2/catch.hpp>

#include "relay/base/crypto.h"
#include "relay/stun/builder.h"
#include "relay/stun/byte_io.h"
#include "relay/stun/integrity.h"
#include "relay/stun/message.h"
#include "stun_test_util.h"

using namespace tw;
using namespace tw::stun;
using namespace tw::stun::testing;
namespace v = tw::vectors::rfc5769;

namespace {

Message decoded(std::span<const uint8_t> m) {
  auto r = decode(m);
  REQUIRE(r.ok());
  return *r;
}

/// Checks the fields 2.2 and 2.3 share, and returns the mapped address.
SocketAddress checkResponse(const Message& m) {
  CHECK(m.method() == Method::Binding);
  CHECK(m.messageClass() == MessageClass::SuccessResponse);
  CHECK(m.transactionId() == v::kTransactionId);
  CHECK(m.software() == v::kResponseSoftware);
  CHECK(m.hasFingerprint());
  CHECK(verifyMessageIntegrity(m, asBytes(v::kShortTermPassword)));
  CHECK_FALSE(verifyMessageIntegrity(m, asBytes("VOkJxbRl1RmTxUk/WvJxBT")));
  REQUIRE(m.attributes().size() == 4);
  REQUIRE(m.xorMappedAddress());
  return *m.xorMappedAddress();
}

/// Re-encodes a 2.2/2.3-style response with our builder.
std::vector<uint8_t> rebuildResponse(const SocketAddress& mapped) {
  std::vector<uint8_t> out;
  MessageBuilder b(out, Method::Binding, MessageClass::SuccessResponse, v::kTransactionId);
  b.addString(attr::Software, v::kResponseSoftware)
      .addXorAddress(attr::XorMappedAddress, mapped)
      .addMessageIntegrity(asBytes(v::kShortTermPassword))
      .addFingerprint();
  REQUIRE(b.ok());
  return out;
}

/// Our re-encoding differs from the RFC only in SOFTWARE's padding byte
/// (0x20 there, 0x00 here) and therefore in MI and FINGERPRINT.
template <size_t N>
void compareRebuilt(const std::array<uint8_t, N>& vec, const std::vector<uint8_t>& ours) {
  REQUIRE(ours.size() == N);
  const size_t softwarePad = 35;
  const size_t miValue = N - 8 - 20;
  for (size_t i = 0; i < miValue; ++i) {
    if (i == softwarePad) continue;
    CHECK(ours[i] == vec[i]);
  }
  CHECK(vec[softwarePad] == 0x20);
  CHECK(ours[softwarePad] == 0x00);
  const Message m = decoded(ours);
  CHECK(m.software() == v::kResponseSoftware);
  CHECK(verifyMessageIntegrity(m, asBytes(v::kShortTermPassword)));
  CHECK(m.hasFingerprint());
}

}  // namespace

TEST_CASE("RFC 5769 2.1 sample request") {
  const Message m = decoded(v::kSampleRequest);
  CHECK(m.method() == Method::Binding);
  CHECK(m.messageClass() == MessageClass::Request);
  CHECK(m.transactionId() == v::kTransactionId);
  CHECK(m.software() == v::kSampleRequestSoftware);
  CHECK(m.username() == v::kSampleRequestUsername);
  REQUIRE(m.valueOf(attr::Priority));
  CHECK(stun::detail::readU32(m.valueOf(attr::Priority)->data()) == v::kSampleRequestPriority);
  REQUIRE(m.valueOf(attr::IceControlled));
  CHECK(stun::detail::readU64(m.valueOf(attr::IceControlled)->data()) == v::kSampleRequestTieBreaker);
  REQUIRE(m.attributes().size() == 6);
  CHECK(m.unknownComprehensionRequired().empty());
  CHECK(m.hasMessageIntegrity());
  CHECK(m.hasFingerprint());
  CHECK(verifyMessageIntegrity(m, asBytes(v::kShortTermPassword)));
  CHECK_FALSE(verifyMessageIntegrity(m, asBytes("VOkJxbRl1RmTxUk/WvJxBu")));
  CHECK_FALSE(verifyMessageIntegritySha256(m, asBytes(v::kShortTermPassword)));
}

TEST_CASE("RFC 5769 2.1 re-encoded: same fields and MI and FINGERPRINT verify") {
  std::vector<uint8_t> out;
  MessageBuilder(out, Method::Binding, MessageClass::Request, v::kTransactionId)
      .addString(attr::Software, v::kSampleRequestSoftware)
      .addU32(attr::Priority, v::kSampleRequestPriority)
      .addU64(attr::IceControlled, v::kSampleRequestTieBreaker)
      .addString(attr::Username, v::kSampleRequestUsername)
      .addMessageIntegrity(asBytes(v::kShortTermPassword))
      .addFingerprint();
  REQUIRE(out.size() == v::kSampleRequest.size());
  // Identical up to USERNAME's padding (0x20 0x20 0x20 in the RFC).
  CHECK(std::equal(out.begin(), out.begin() + 73, v::kSampleRequest.begin()));
  const Message m = decoded(out);
  CHECK(m.username() == v::kSampleRequestUsername);
  CHECK(verifyMessageIntegrity(m, asBytes(v::kShortTermPassword)));
}

TEST_CASE("RFC 5769 2.2 sample IPv4 response") {
  const Message m = decoded(v::kSampleIpv4Response);
  const SocketAddress mapped = checkResponse(m);
  CHECK(mapped == SocketAddress::parse(v::kMappedIpv4));
  CHECK(mapped.ip.isV4());
  CHECK(mapped.port == 32853);
  compareRebuilt(v::kSampleIpv4Response, rebuildResponse(mapped));
}

TEST_CASE("RFC 5769 2.3 sample IPv6 response") {
  const Message m = decoded(v::kSampleIpv6Response);
  const SocketAddress mapped = checkResponse(m);
  CHECK(mapped == SocketAddress::parse(v::kMappedIpv6));
  CHECK(mapped.ip.isV6());
  CHECK(mapped.port == 32853);
  compareRebuilt(v::kSampleIpv6Response, rebuildResponse(mapped));
}

TEST_CASE("RFC 5769 2.4 long-term request") {
  const Message m = decoded(v::kSampleLongTermRequest);
  CHECK(m.method() == Method::Binding);
  CHECK(m.messageClass() == MessageClass::Request);
  CHECK(m.transactionId() == v::kLongTermTransactionId);
  CHECK(m.username() == v::kLongTermUsername);
  CHECK(m.nonce() == v::kLongTermNonce);
  CHECK(m.realm() == v::kLongTermRealm);
  CHECK_FALSE(m.hasFingerprint());
  const auto key = longTermKey(v::kLongTermUsername, v::kLongTermRealm, v::kLongTermPassword);
  CHECK(hexEncode(key) == "e8ca7ad59d5eb0518e312911d2dab2a9");  // Python hashlib
  CHECK(verifyMessageIntegrity(m, key));
  CHECK_FALSE(verifyMessageIntegrity(m, longTermKey(v::kLongTermUsername, v::kLongTermRealm, "TheMatrix")));
  CHECK_FALSE(verifyMessageIntegrity(m, asBytes(v::kLongTermPassword)));
}

TEST_CASE("RFC 5769 2.4 re-encoded byte for byte") {
  const auto key = longTermKey(v::kLongTermUsername, v::kLongTermRealm, v::kLongTermPassword);
  std::vector<uint8_t> out;
  MessageBuilder(out, Method::Binding, MessageClass::Request, v::kLongTermTransactionId)
      .addString(attr::Username, v::kLongTermUsername)
      .addString(attr::Nonce, v::kLongTermNonce)
      .addString(attr::Realm, v::kLongTermRealm)
      .addMessageIntegrity(key);
  CHECK(out == toVector(v::kSampleLongTermRequest));
}

TEST_CASE("RFC 5769 vectors fail verification once a covered byte changes") {
  auto m = toVector(v::kSampleLongTermRequest);
  m[24] ^= 0x01;  // first USERNAME byte
  const Message msg = decoded(m);
  CHECK_FALSE(verifyMessageIntegrity(
      msg, longTermKey(v::kLongTermUsername, v::kLongTermRealm, v::kLongTermPassword)));
  auto r = toVector(v::kSampleIpv4Response);
  r[24] ^= 0x01;  // SOFTWARE byte: FINGERPRINT catches it at decode
  CHECK(decode(r).error() == DecodeError::BadFingerprint);
}
