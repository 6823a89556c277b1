// decode(): every rejection class, the MESSAGE-INTEGRITY ordering rules,
// unknown attributes and alignment.
#include <catch2/catch.hpp>
#include <cstring>
#include <memory>

#include "relay/base/crypto.h"
#include "relay/stun/builder.h"
#include "relay/stun/integrity.h"
#include "relay/stun/message.h"
#include "stun_test_util.h"
#include "tests/vectors/rfc5769.h"

using namespace tw;
using namespace tw::stun;
using namespace tw::stun::testing;
namespace v = tw::vectors::rfc5769;

namespace {

DecodeError errorOf(const std::vector<uint8_t>& m) {
  auto r = decode(m);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

std::vector<uint8_t> bindingRequest() {
  return rawHeader(Method::Binding, MessageClass::Request, makeTxid(1));
}

const std::array<uint8_t, 4> kFour = {0, 0, 0, 60};

}  // namespace

TEST_CASE("decode accepts a bare header") {
  auto m = bindingRequest();
  auto r = decode(m);
  REQUIRE(r.ok());
  CHECK(r->method() == Method::Binding);
  CHECK(r->messageClass() == MessageClass::Request);
  CHECK(r->transactionId() == makeTxid(1));
  CHECK(r->attributes().empty());
  CHECK(r->bytes().data() == m.data());
  CHECK(r->bytes().size() == 20);
}

TEST_CASE("decode keeps unknown method numbers") {
  auto m = rawHeader(static_cast<Method>(0x0ABC), MessageClass::Indication, makeTxid(2));
  auto r = decode(m);
  REQUIRE(r.ok());
  CHECK(r->rawMethod() == 0x0ABC);
  CHECK(r->messageClass() == MessageClass::Indication);
  CHECK(toString(r->method()) == "Unknown");
}

TEST_CASE("decode rejects fewer than 20 bytes: TooShort") {
  auto m = bindingRequest();
  for (size_t n : {0u, 1u, 4u, 19u})
    CHECK(errorOf(std::vector<uint8_t>(m.begin(), m.begin() + n)) == DecodeError::TooShort);
}

TEST_CASE("decode rejects first two bits other than 00: NotStun") {
  for (uint8_t top : {0x40, 0x80, 0xC0}) {
    auto m = bindingRequest();
    m[0] |= top;
    CHECK(errorOf(m) == DecodeError::NotStun);
  }
}

TEST_CASE("decode rejects a wrong magic cookie: BadMagicCookie") {
  auto m = bindingRequest();
  m[7] ^= 0x01;
  CHECK(errorOf(m) == DecodeError::BadMagicCookie);
  m = bindingRequest();
  std::memset(m.data() + 4, 0, 4);  // RFC 3489 style header
  CHECK(errorOf(m) == DecodeError::BadMagicCookie);
}

TEST_CASE("decode rejects inconsistent lengths: BadLength") {
  auto m = bindingRequest();
  appendRaw(m, attr::Lifetime, kFour);
  SECTION("not a multiple of 4") {
    put16(m, 2, 6);
    m.resize(26);
    CHECK(errorOf(m) == DecodeError::BadLength);
  }
  SECTION("shorter than the datagram") {
    put16(m, 2, 4);
    CHECK(errorOf(m) == DecodeError::BadLength);
  }
  SECTION("longer than the datagram") {
    put16(m, 2, 12);
    CHECK(errorOf(m) == DecodeError::BadLength);
  }
  SECTION("trailing bytes after the message") {
    m.push_back(0);
    CHECK(errorOf(m) == DecodeError::BadLength);
  }
  SECTION("over kMaxMessageSize") {
    std::vector<uint8_t> big = bindingRequest();
    const std::vector<uint8_t> data(0xFFF0, 0x11);
    appendRaw(big, attr::Data, data);
    REQUIRE(big.size() > kMaxMessageSize);
    CHECK(errorOf(big) == DecodeError::BadLength);
  }
}

TEST_CASE("decode rejects a TLV running past the end: AttributeOverrun") {
  auto m = bindingRequest();
  appendRaw(m, attr::Lifetime, kFour);
  SECTION("length one past the value") {
    put16(m, 22, 5);
    CHECK(errorOf(m) == DecodeError::AttributeOverrun);
  }
  SECTION("length 0xFFFF") {
    put16(m, 22, 0xFFFF);
    CHECK(errorOf(m) == DecodeError::AttributeOverrun);
  }
  SECTION("second attribute overruns") {
    appendRaw(m, attr::Software, std::string_view("abcd"));
    put16(m, 30, 8);
    CHECK(errorOf(m) == DecodeError::AttributeOverrun);
  }
  SECTION("padding past the end") {
    put16(m, 22, 3);  // fits, padding fits
    CHECK(decode(m).ok());
    appendRaw(m, attr::Software, std::string_view("abcd"));
    put16(m, 30, 5);  // value of 5 needs 8 bytes, only 4 follow
    CHECK(errorOf(m) == DecodeError::AttributeOverrun);
  }
}

TEST_CASE("decode rejects FINGERPRINT that is not last: BadAttributeOrder") {
  auto m = bindingRequest();
  appendFingerprint(m);
  REQUIRE(decode(m).ok());
  appendRaw(m, attr::Software, std::string_view("late"));
  CHECK(errorOf(m) == DecodeError::BadAttributeOrder);
}

TEST_CASE("decode rejects a wrong FINGERPRINT: BadFingerprint") {
  auto m = bindingRequest();
  appendRaw(m, attr::Software, std::string_view("abc"));
  appendFingerprint(m);
  REQUIRE(decode(m).ok());
  SECTION("CRC bit flipped") {
    m.back() ^= 0x01;
    CHECK(errorOf(m) == DecodeError::BadFingerprint);
  }
  SECTION("covered byte changed") {
    m[24] = 'X';
    CHECK(errorOf(m) == DecodeError::BadFingerprint);
  }
  SECTION("plain CRC without the XOR") {
    const uint32_t plain = fingerprintOf(std::span<const uint8_t>(m.data(), m.size() - 8)) ^ kFingerprintXor;
    for (int i = 0; i < 4; ++i) m[m.size() - 4 + i] = static_cast<uint8_t>(plain >> (24 - 8 * i));
    CHECK(errorOf(m) == DecodeError::BadFingerprint);
  }
}

TEST_CASE("decode rejects integrity and fingerprint lengths: BadAttributeLength") {
  auto m = bindingRequest();
  SECTION("MESSAGE-INTEGRITY not 20 bytes") {
    for (size_t n : {0u, 16u, 19u, 21u, 32u}) {
      auto x = m;
      appendRaw(x, attr::MessageIntegrity, std::vector<uint8_t>(n, 0xAB));
      CHECK(errorOf(x) == DecodeError::BadAttributeLength);
    }
  }
  SECTION("MESSAGE-INTEGRITY-SHA256 not 16..32 or not a multiple of 4") {
    for (size_t n : {0u, 4u, 12u, 17u, 18u, 30u, 36u, 64u}) {
      auto x = m;
      appendRaw(x, attr::MessageIntegritySha256, std::vector<uint8_t>(n, 0xAB));
      CHECK(errorOf(x) == DecodeError::BadAttributeLength);
    }
    for (size_t n : {16u, 20u, 24u, 28u, 32u}) {
      auto x = m;
      appendRaw(x, attr::MessageIntegritySha256, std::vector<uint8_t>(n, 0xAB));
      CHECK(decode(x).ok());
    }
  }
  SECTION("FINGERPRINT not 4 bytes") {
    appendRaw(m, attr::Fingerprint, std::vector<uint8_t>(8, 0));
    CHECK(errorOf(m) == DecodeError::BadAttributeLength);
  }
}

TEST_CASE("decode caps the attribute count: TooManyAttributes") {
  auto m = bindingRequest();
  for (size_t i = 0; i < kMaxAttributes; ++i) appendRaw(m, attr::Priority, kFour);
  auto r = decode(m);
  REQUIRE(r.ok());
  CHECK(r->attributes().size() == kMaxAttributes);
  appendRaw(m, attr::Priority, kFour);
  CHECK(errorOf(m) == DecodeError::TooManyAttributes);
}

TEST_CASE("attributes after MESSAGE-INTEGRITY are invisible") {
  const std::vector<uint8_t> key = {1, 2, 3, 4};
  std::vector<uint8_t> m;
  MessageBuilder(m, Method::Allocate, MessageClass::Request, makeTxid(3))
      .addRequestedTransport(kProtocolUdp)
      .addMessageIntegrity(key);
  std::vector<uint8_t> peer;
  MessageBuilder(peer, Method::CreatePermission, MessageClass::Request, makeTxid(3))
      .addXorAddress(attr::XorPeerAddress, *SocketAddress::parse("10.0.0.1:80"));
  auto peerValue = std::span<const uint8_t>(peer).subspan(24, 8);
  appendRaw(m, attr::Lifetime, std::array<uint8_t, 4>{0xFF, 0xFF, 0xFF, 0xFF});
  appendRaw(m, attr::XorPeerAddress, peerValue);
  appendRaw(m, 0x0003, kFour);                                       // unknown, comprehension-required
  appendRaw(m, attr::MessageIntegrity, std::vector<uint8_t>(7, 0));  // a bad second MI is ignored too
  appendFingerprint(m);
  auto r = decode(m);
  REQUIRE(r.ok());
  CHECK_FALSE(r->lifetime().has_value());
  CHECK(r->find(attr::Lifetime) == nullptr);
  CHECK(r->find(attr::XorPeerAddress) == nullptr);
  std::array<SocketAddress, 4> peers;
  bool malformed = true;
  CHECK(r->xorPeerAddresses(peers, malformed) == 0);
  CHECK_FALSE(malformed);
  CHECK(r->unknownComprehensionRequired().empty());
  REQUIRE(r->attributes().size() == 3);
  CHECK(r->attributes()[0].type == attr::RequestedTransport);
  CHECK(r->attributes()[1].type == attr::MessageIntegrity);
  CHECK(r->attributes()[2].type == attr::Fingerprint);
  CHECK(r->hasFingerprint());
  CHECK(verifyMessageIntegrity(*r, key));
}

TEST_CASE("MI-SHA256 after MI is kept, everything but FINGERPRINT after MI-SHA256 is not") {
  const std::vector<uint8_t> key = {9, 9, 9};
  std::vector<uint8_t> m;
  MessageBuilder(m, Method::Refresh, MessageClass::Request, makeTxid(4))
      .addU32(attr::Lifetime, 600)
      .addMessageIntegrity(key)
      .addMessageIntegritySha256(key);
  appendRaw(m, attr::MessageIntegrity, std::vector<uint8_t>(20, 0));
  appendRaw(m, attr::MessageIntegritySha256, std::vector<uint8_t>(3, 0));  // bad length, but ignored
  appendRaw(m, attr::Lifetime, kFour);
  auto r = decode(m);
  REQUIRE(r.ok());
  REQUIRE(r->attributes().size() == 3);
  CHECK(r->attributes()[1].type == attr::MessageIntegrity);
  CHECK(r->attributes()[2].type == attr::MessageIntegritySha256);
  CHECK(r->lifetime() == 600u);
  CHECK(verifyMessageIntegrity(*r, key));
  CHECK(verifyMessageIntegritySha256(*r, key));
}

TEST_CASE("MI after MI-SHA256 is ignored") {
  const std::vector<uint8_t> key = {5};
  std::vector<uint8_t> m;
  MessageBuilder(m, Method::Refresh, MessageClass::Request, makeTxid(5)).addMessageIntegritySha256(key);
  appendRaw(m, attr::MessageIntegrity, std::vector<uint8_t>(20, 0));
  auto r = decode(m);
  REQUIRE(r.ok());
  CHECK_FALSE(r->hasMessageIntegrity());
  CHECK(r->hasMessageIntegritySha256());
  CHECK_FALSE(verifyMessageIntegrity(*r, key));
  CHECK(verifyMessageIntegritySha256(*r, key));
}

TEST_CASE("unknown comprehension-required attributes are collected once each") {
  auto m = bindingRequest();
  appendRaw(m, 0x0003, kFour);  // CHANGE-REQUEST: unknown here
  appendRaw(m, attr::Software, std::string_view("x"));
  appendRaw(m, 0x7FFF, kFour);
  appendRaw(m, 0x0003, kFour);          // duplicate
  appendRaw(m, 0x8FFF, kFour);          // comprehension-optional: skipped silently
  appendRaw(m, attr::Lifetime, kFour);  // known
  auto r = decode(m);
  REQUIRE(r.ok());
  const auto unknown = r->unknownComprehensionRequired();
  REQUIRE(unknown.size() == 2);
  CHECK(unknown[0] == 0x0003);
  CHECK(unknown[1] == 0x7FFF);
  CHECK(r->attributes().size() == 6);  // unknown ones are still indexed
}

TEST_CASE("decode reads attributes at odd addresses bytewise") {
  std::vector<uint8_t> m;
  MessageBuilder(m, Method::Allocate, MessageClass::SuccessResponse, makeTxid(6))
      .addXorAddress(attr::XorRelayedAddress, *SocketAddress::parse("[2001:db8::7]:49152"))
      .addXorAddress(attr::XorMappedAddress, *SocketAddress::parse("203.0.113.9:3478"))
      .addU32(attr::Lifetime, 0x01020304)
      .addU64(attr::ReservationToken, 0x0102030405060708)
      .addString(attr::Software, "tw")
      .addFingerprint();
  for (size_t shift : {1u, 3u}) {
    auto buffer = std::make_unique<uint8_t[]>(m.size() + shift);
    std::memcpy(buffer.get() + shift, m.data(), m.size());
    const std::span<const uint8_t> odd(buffer.get() + shift, m.size());
    auto r = decode(odd);
    REQUIRE(r.ok());
    CHECK(r->xorRelayedAddress() == SocketAddress::parse("[2001:db8::7]:49152"));
    CHECK(r->xorMappedAddress() == SocketAddress::parse("203.0.113.9:3478"));
    CHECK(r->lifetime() == 0x01020304u);
    CHECK(r->reservationToken() == 0x0102030405060708u);
    CHECK(r->software() == "tw");
    CHECK(r->hasFingerprint());
  }
  auto vectorCopy = toVector(v::kSampleRequest);
  auto buffer = std::make_unique<uint8_t[]>(vectorCopy.size() + 1);
  std::memcpy(buffer.get() + 1, vectorCopy.data(), vectorCopy.size());
  auto r = decode(std::span<const uint8_t>(buffer.get() + 1, vectorCopy.size()));
  REQUIRE(r.ok());
  CHECK(verifyMessageIntegrity(*r, asBytes(v::kShortTermPassword)));
}

TEST_CASE("the decoded message is a view over the caller's bytes") {
  auto m = bindingRequest();
  appendRaw(m, attr::Username, std::string_view("alice"));
  auto r = decode(m);
  REQUIRE(r.ok());
  REQUIRE(r->username().has_value());
  CHECK(r->username()->data() == reinterpret_cast<const char*>(m.data() + 24));
  const RawAttribute* a = r->find(attr::Username);
  REQUIRE(a != nullptr);
  CHECK(a->offset == 24);
  CHECK(a->length == 5);
  CHECK(r->value(*a).data() == m.data() + 24);
}
