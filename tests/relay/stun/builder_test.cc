// MessageBuilder: round trips for every attribute type, zero padding,
// length bookkeeping and refusal of unsafe sequences.
#include "relay/stun/builder.h"

#include <catch2/catch.hpp>
#include <string>

#include "relay/stun/integrity.h"
#include "relay/stun/message.h"
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

std::vector<uint8_t> bytesOf(std::span<const uint8_t> s) { return {s.begin(), s.end()}; }

/// Checks that every padding byte after every attribute value is zero.
void requireZeroPadding(const std::vector<uint8_t>& m) {
  size_t pos = kHeaderSize;
  while (pos < m.size()) {
    auto a = readAttribute(m, pos);
    REQUIRE(a.ok());
    for (size_t i = a->offset + a->length; i < nextAttributePos(*a); ++i) CHECK(m[i] == 0);
    pos = nextAttributePos(*a);
  }
}

}  // namespace

TEST_CASE("builder writes the header and keeps the length current") {
  std::vector<uint8_t> out = {9, 9, 9};
  MessageBuilder b(out, Method::Allocate, MessageClass::ErrorResponse, makeTxid(1));
  CHECK(b.bytes().size() == kHeaderSize);
  CHECK(out[0] == 0x01);
  CHECK(out[1] == 0x13);
  CHECK(out[2] == 0);
  CHECK(out[3] == 0);
  CHECK(out[4] == 0x21);
  CHECK(out[7] == 0x42);
  CHECK(std::equal(out.begin() + 8, out.end(), makeTxid(1).begin()));
  b.addString(attr::Software, "abcde");
  CHECK(out.size() == 32);
  CHECK(out[3] == 12);
  CHECK(b.ok());
  const Message m = decoded(out);
  CHECK(m.method() == Method::Allocate);
  CHECK(m.messageClass() == MessageClass::ErrorResponse);
  CHECK(m.transactionId() == makeTxid(1));
}

TEST_CASE("builder round trips every typed attribute") {
  std::vector<uint8_t> out;
  const auto v4 = *SocketAddress::parse("198.51.100.20:40000");
  const auto v6 = *SocketAddress::parse("[2001:db8:ffff::1]:65535");
  const std::vector<uint8_t> payload = {1, 2, 3, 4, 5};
  const std::vector<uint8_t> hash(32, 0x5A);
  MessageBuilder(out, Method::Allocate, MessageClass::SuccessResponse, makeTxid(2))
      .addXorAddress(attr::XorMappedAddress, v4)
      .addXorAddress(attr::XorRelayedAddress, v6)
      .addXorAddress(attr::XorPeerAddress, v6)
      .addAddress(attr::MappedAddress, v6)
      .addAddress(attr::AlternateServer, v4)
      .addString(attr::Username, "user")
      .addString(attr::Realm, "realm.example")
      .addString(attr::Nonce, "n0nce")
      .addString(attr::Software, "turnwarden")
      .addU32(attr::Lifetime, 3600)
      .addRequestedTransport(kProtocolTcp)
      .addChannelNumber(0x7FFE)
      .addBytes(attr::Data, payload)
      .addEvenPort(true)
      .addU64(attr::ReservationToken, 0xFEDCBA9876543210)
      .addAddressFamily(attr::RequestedAddressFamily, kFamilyIPv6)
      .addAddressFamily(attr::AdditionalAddressFamily, kFamilyIPv6)
      .addU32(attr::ConnectionId, 0xC0FFEE)
      .addEmpty(attr::DontFragment)
      .addBytes(attr::Userhash, hash)
      .addBytes(attr::PasswordAlgorithm, std::vector<uint8_t>{0, 2, 0, 0});
  const Message m = decoded(out);
  CHECK(m.xorMappedAddress() == v4);
  CHECK(m.xorRelayedAddress() == v6);
  std::array<SocketAddress, 1> peers;
  bool malformed = true;
  CHECK(m.xorPeerAddresses(peers, malformed) == 1);
  CHECK(peers[0] == v6);
  CHECK(m.mappedAddress() == v6);
  CHECK(m.alternateServer() == v4);
  CHECK(m.username() == "user");
  CHECK(m.realm() == "realm.example");
  CHECK(m.nonce() == "n0nce");
  CHECK(m.software() == "turnwarden");
  CHECK(m.lifetime() == 3600u);
  CHECK(m.requestedTransport() == kProtocolTcp);
  CHECK(m.channelNumber() == 0x7FFE);
  CHECK(bytesOf(*m.data()) == payload);
  CHECK(m.evenPort()->reserve);
  CHECK(m.reservationToken() == 0xFEDCBA9876543210u);
  CHECK(m.requestedAddressFamily() == kFamilyIPv6);
  CHECK(m.additionalAddressFamily() == kFamilyIPv6);
  CHECK(m.connectionId() == 0xC0FFEEu);
  CHECK(m.dontFragment());
  CHECK(bytesOf(*m.userhash()) == hash);
  CHECK(m.passwordAlgorithm()->algorithm == 2);
  CHECK(m.unknownComprehensionRequired().empty());
  requireZeroPadding(out);
}

TEST_CASE("builder round trips EVEN-PORT without R") {
  std::vector<uint8_t> out;
  MessageBuilder(out, Method::Allocate, MessageClass::Request, makeTxid(3)).addEvenPort(false);
  CHECK_FALSE(decoded(out).evenPort()->reserve);
  CHECK(out.size() == 28);  // 1 value byte + 3 padding
}

TEST_CASE("builder round trips ERROR-CODE for every code") {
  for (int c : {300, 400, 401, 403, 420, 437, 438, 440, 441, 442, 443, 446, 447, 486, 500, 508}) {
    std::vector<uint8_t> out;
    MessageBuilder(out, Method::Allocate, MessageClass::ErrorResponse, makeTxid(4)).addErrorCode(c);
    auto e = decoded(out).errorCode();
    REQUIRE(e);
    CHECK(e->code == c);
    CHECK(e->reason == reasonPhrase(c));
    requireZeroPadding(out);
  }
  std::vector<uint8_t> out;
  MessageBuilder(out, Method::Refresh, MessageClass::ErrorResponse, makeTxid(4)).addErrorCode(699, "custom");
  CHECK(decoded(out).errorCode()->code == 699);
  CHECK(decoded(out).errorCode()->reason == "custom");
}

TEST_CASE("builder writes a bare ERROR-CODE: class and number, no reason phrase") {
  std::vector<uint8_t> out;
  MessageBuilder(out, Method::Allocate, MessageClass::ErrorResponse, makeTxid(4)).addBareErrorCode(401);
  CHECK(out.size() == 20 + 8);  // header + attribute header + 4 value bytes
  auto e = decoded(out).errorCode();
  REQUIRE(e);
  CHECK(e->code == 401);
  CHECK(e->reason.empty());
}

TEST_CASE("builder refuses ERROR-CODE outside 300..699") {
  for (int c : {0, 200, 299, 700, 1000, -400}) {
    std::vector<uint8_t> out;
    MessageBuilder b(out, Method::Allocate, MessageClass::ErrorResponse, makeTxid(4));
    b.addErrorCode(c);
    CHECK_FALSE(b.ok());
    CHECK(out.size() == kHeaderSize);
  }
}

TEST_CASE("builder writes UNKNOWN-ATTRIBUTES with zero padding") {
  std::vector<uint8_t> out;
  const std::vector<uint16_t> types = {0x0003, 0x7ABC, 0x0031};
  MessageBuilder(out, Method::Binding, MessageClass::ErrorResponse, makeTxid(5))
      .addErrorCode(code::UnknownAttribute)
      .addUnknownAttributes(types);
  const Message m = decoded(out);
  const auto v = m.valueOf(attr::UnknownAttributes);
  REQUIRE(v);
  REQUIRE(v->size() == 6);
  CHECK(bytesOf(*v) == std::vector<uint8_t>{0x00, 0x03, 0x7A, 0xBC, 0x00, 0x31});
  requireZeroPadding(out);
}

TEST_CASE("builder round trips raw bytes for every registered attribute type") {
  const uint16_t types[] = {attr::MappedAddress,
                            attr::Username,
                            attr::ErrorCode,
                            attr::UnknownAttributes,
                            attr::ChannelNumber,
                            attr::Lifetime,
                            attr::XorPeerAddress,
                            attr::Data,
                            attr::Realm,
                            attr::Nonce,
                            attr::XorRelayedAddress,
                            attr::RequestedAddressFamily,
                            attr::EvenPort,
                            attr::RequestedTransport,
                            attr::DontFragment,
                            attr::PasswordAlgorithm,
                            attr::Userhash,
                            attr::XorMappedAddress,
                            attr::ReservationToken,
                            attr::Priority,
                            attr::UseCandidate,
                            attr::Padding,
                            attr::ResponsePort,
                            attr::ConnectionId,
                            attr::AdditionalAddressFamily,
                            attr::AddressErrorCode,
                            attr::PasswordAlgorithms,
                            attr::AlternateDomain,
                            attr::Icmp,
                            attr::Software,
                            attr::AlternateServer,
                            attr::TransactionTransmitCounter,
                            attr::CacheTimeout,
                            attr::IceControlled,
                            attr::IceControlling,
                            attr::ResponseOrigin,
                            attr::OtherAddress};
  std::vector<uint8_t> out;
  MessageBuilder b(out, Method::Binding, MessageClass::Indication, makeTxid(6));
  for (size_t i = 0; i < std::size(types); ++i) {
    b.addBytes(types[i], std::vector<uint8_t>(i % 9, static_cast<uint8_t>(i + 1)));
  }
  REQUIRE(b.ok());
  const Message m = decoded(out);
  REQUIRE(m.attributes().size() == std::size(types));
  for (size_t i = 0; i < std::size(types); ++i) {
    const RawAttribute& a = m.attributes()[i];
    CHECK(a.type == types[i]);
    CHECK(bytesOf(m.value(a)) == std::vector<uint8_t>(i % 9, static_cast<uint8_t>(i + 1)));
  }
  requireZeroPadding(out);
}

TEST_CASE("padding is zero even when the output vector is reused dirty") {
  std::vector<uint8_t> out(4096, 0xCC);
  out.assign(4096, 0xAB);  // capacity holds garbage
  for (size_t len = 0; len < 8; ++len) {
    MessageBuilder(out, Method::Send, MessageClass::Indication, makeTxid(7))
        .addBytes(attr::Data, std::vector<uint8_t>(len, 0xFF))
        .addString(attr::Software, std::string(len + 1, 's'))
        .addEvenPort(true)
        .addFingerprint();
    requireZeroPadding(out);
    CHECK(decode(out).ok());
  }
}

TEST_CASE("integrity attributes are placed and sealed in order") {
  const std::vector<uint8_t> key = {1, 2, 3};
  std::vector<uint8_t> out;
  MessageBuilder b(out, Method::Refresh, MessageClass::Request, makeTxid(8));
  b.addMessageIntegrity(key);
  const size_t afterMi = out.size();
  b.addU32(attr::Lifetime, 1);  // would be ignored by receivers: refused
  CHECK_FALSE(b.ok());
  CHECK(out.size() == afterMi);
  b.addFingerprint();  // once failed, the builder stays failed
  CHECK(out.size() == afterMi);

  std::vector<uint8_t> out2;
  MessageBuilder c(out2, Method::Refresh, MessageClass::Request, makeTxid(8));
  c.addMessageIntegrity(key).addMessageIntegritySha256(key).addFingerprint();
  CHECK(c.ok());
  const Message m = decoded(out2);
  CHECK(m.hasMessageIntegrity());
  CHECK(m.hasMessageIntegritySha256());
  CHECK(m.hasFingerprint());
  c.addMessageIntegrity(key);  // after FINGERPRINT
  CHECK_FALSE(c.ok());
  CHECK(decode(out2).ok());
}

TEST_CASE("builder refuses empty keys and bad MI-SHA256 truncations") {
  std::vector<uint8_t> out;
  const std::vector<uint8_t> key = {7};
  CHECK_FALSE(MessageBuilder(out, Method::Binding, MessageClass::Request, makeTxid(9))
                  .addMessageIntegrity(std::span<const uint8_t>())
                  .ok());
  CHECK(out.size() == kHeaderSize);
  for (size_t n : {0u, 12u, 18u, 36u}) {
    CHECK_FALSE(MessageBuilder(out, Method::Binding, MessageClass::Request, makeTxid(9))
                    .addMessageIntegritySha256(key, n)
                    .ok());
  }
  for (size_t n : {16u, 20u, 24u, 28u, 32u}) {
    MessageBuilder b(out, Method::Binding, MessageClass::Request, makeTxid(9));
    b.addMessageIntegritySha256(key, n);
    CHECK(b.ok());
    CHECK(decoded(out).find(attr::MessageIntegritySha256)->length == n);
  }
}

TEST_CASE("builder refuses to exceed kMaxMessageSize") {
  std::vector<uint8_t> out;
  MessageBuilder b(out, Method::Send, MessageClass::Indication, makeTxid(10));
  const std::vector<uint8_t> big(kMaxMessageSize - kHeaderSize - 4 - 3, 1);  // total 65532
  b.addBytes(attr::Data, big);
  REQUIRE(b.ok());
  CHECK(out.size() == kMaxMessageSize - 3);
  CHECK(decode(out).ok());
  b.addEmpty(attr::DontFragment);
  CHECK_FALSE(b.ok());
  CHECK(out.size() == kMaxMessageSize - 3);

  std::vector<uint8_t> out2;
  MessageBuilder c(out2, Method::Send, MessageClass::Indication, makeTxid(10));
  c.addBytes(attr::Data, std::vector<uint8_t>(0x10000, 1));
  CHECK_FALSE(c.ok());
  CHECK(out2.size() == kHeaderSize);
}

TEST_CASE("builder accepts raw method numbers") {
  std::vector<uint8_t> out;
  MessageBuilder(out, uint16_t{0x0ABC}, MessageClass::SuccessResponse, makeTxid(11));
  const Message m = decoded(out);
  CHECK(m.rawMethod() == 0x0ABC);
  CHECK(m.messageClass() == MessageClass::SuccessResponse);
}
