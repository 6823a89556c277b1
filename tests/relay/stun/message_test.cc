// Typed getters: values, and nullopt for absent or malformed attributes.
#include "relay/stun/message.h"

#include <catch2/catch.hpp>
#include <string>

#include "stun_test_util.h"

using namespace tw;
using namespace tw::stun;
using namespace tw::stun::testing;

namespace {

std::vector<uint8_t> withAttr(uint16_t type, std::vector<uint8_t> value) {
  auto m = rawHeader(Method::Allocate, MessageClass::Request, makeTxid(7));
  appendRaw(m, type, value);
  return m;
}

Message decoded(const std::vector<uint8_t>& m) {
  auto r = decode(m);
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("getters are nullopt on an empty message") {
  const auto m = rawHeader(Method::Allocate, MessageClass::Request, makeTxid(7));
  const Message msg = decoded(m);
  CHECK_FALSE(msg.username());
  CHECK_FALSE(msg.realm());
  CHECK_FALSE(msg.nonce());
  CHECK_FALSE(msg.software());
  CHECK_FALSE(msg.lifetime());
  CHECK_FALSE(msg.requestedTransport());
  CHECK_FALSE(msg.channelNumber());
  CHECK_FALSE(msg.data());
  CHECK_FALSE(msg.evenPort());
  CHECK_FALSE(msg.reservationToken());
  CHECK_FALSE(msg.requestedAddressFamily());
  CHECK_FALSE(msg.additionalAddressFamily());
  CHECK_FALSE(msg.connectionId());
  CHECK_FALSE(msg.errorCode());
  CHECK_FALSE(msg.dontFragment());
  CHECK_FALSE(msg.userhash());
  CHECK_FALSE(msg.passwordAlgorithm());
  CHECK_FALSE(msg.xorMappedAddress());
  CHECK_FALSE(msg.xorRelayedAddress());
  CHECK_FALSE(msg.mappedAddress());
  CHECK_FALSE(msg.alternateServer());
  CHECK_FALSE(msg.hasMessageIntegrity());
  CHECK_FALSE(msg.hasMessageIntegritySha256());
  CHECK_FALSE(msg.hasFingerprint());
  CHECK(msg.find(attr::Lifetime) == nullptr);
  CHECK_FALSE(msg.valueOf(attr::Lifetime));
}

TEST_CASE("a default Message is empty and safe to query") {
  const Message msg;
  CHECK(msg.bytes().empty());
  CHECK(msg.attributes().empty());
  CHECK(msg.method() == Method::Binding);
  CHECK_FALSE(msg.username());
}

TEST_CASE("USERNAME is capped at 512 bytes") {
  CHECK(decoded(withAttr(attr::Username, std::vector<uint8_t>(512, 'u'))).username()->size() == 512);
  CHECK_FALSE(decoded(withAttr(attr::Username, std::vector<uint8_t>(513, 'u'))).username());
  CHECK(decoded(withAttr(attr::Username, {})).username() == "");
}

TEST_CASE("REALM NONCE and SOFTWARE are capped at 763 bytes") {
  for (uint16_t t : {attr::Realm, attr::Nonce, attr::Software}) {
    const auto okBytes = withAttr(t, std::vector<uint8_t>(763, 'r'));
    const auto tooLongBytes = withAttr(t, std::vector<uint8_t>(764, 'r'));
    const Message ok = decoded(okBytes);
    const Message tooLong = decoded(tooLongBytes);
    auto get = [t](const Message& m) {
      return t == attr::Realm ? m.realm() : t == attr::Nonce ? m.nonce() : m.software();
    };
    CHECK(get(ok)->size() == 763);
    CHECK_FALSE(get(tooLong));
  }
}

TEST_CASE("fixed-size getters reject other lengths") {
  CHECK(decoded(withAttr(attr::Lifetime, {0, 0, 2, 88})).lifetime() == 600u);
  CHECK_FALSE(decoded(withAttr(attr::Lifetime, {0, 0, 2})).lifetime());
  CHECK_FALSE(decoded(withAttr(attr::Lifetime, {0, 0, 2, 88, 0})).lifetime());
  CHECK(decoded(withAttr(attr::RequestedTransport, {17, 0, 0, 0})).requestedTransport() == 17);
  CHECK_FALSE(decoded(withAttr(attr::RequestedTransport, {17})).requestedTransport());
  CHECK(decoded(withAttr(attr::ChannelNumber, {0x40, 0x01, 0, 0})).channelNumber() == 0x4001);
  CHECK_FALSE(decoded(withAttr(attr::ChannelNumber, {0x40, 0x01})).channelNumber());
  CHECK(decoded(withAttr(attr::EvenPort, {0x80})).evenPort()->reserve);
  CHECK_FALSE(decoded(withAttr(attr::EvenPort, {0x7F})).evenPort()->reserve);
  CHECK_FALSE(decoded(withAttr(attr::EvenPort, {})).evenPort());
  CHECK_FALSE(decoded(withAttr(attr::EvenPort, {0x80, 0, 0, 0})).evenPort());
  CHECK(decoded(withAttr(attr::ReservationToken, {1, 2, 3, 4, 5, 6, 7, 8})).reservationToken() ==
        0x0102030405060708u);
  CHECK_FALSE(decoded(withAttr(attr::ReservationToken, {1, 2, 3, 4})).reservationToken());
  CHECK(decoded(withAttr(attr::RequestedAddressFamily, {2, 0, 0, 0})).requestedAddressFamily() == 2);
  CHECK(decoded(withAttr(attr::RequestedAddressFamily, {7, 0, 0, 0})).requestedAddressFamily() == 7);
  CHECK_FALSE(decoded(withAttr(attr::RequestedAddressFamily, {1})).requestedAddressFamily());
  CHECK(decoded(withAttr(attr::AdditionalAddressFamily, {2, 0, 0, 0})).additionalAddressFamily() == 2);
  CHECK_FALSE(decoded(withAttr(attr::AdditionalAddressFamily, {2, 0})).additionalAddressFamily());
  CHECK(decoded(withAttr(attr::ConnectionId, {0xde, 0xad, 0xbe, 0xef})).connectionId() == 0xdeadbeefu);
  CHECK_FALSE(decoded(withAttr(attr::ConnectionId, {0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0})).connectionId());
  CHECK(decoded(withAttr(attr::Userhash, std::vector<uint8_t>(32, 7))).userhash()->size() == 32);
  CHECK_FALSE(decoded(withAttr(attr::Userhash, std::vector<uint8_t>(31, 7))).userhash());
}

TEST_CASE("DATA and DONT-FRAGMENT") {
  const auto bytes = withAttr(attr::Data, {1, 2, 3});
  const Message m = decoded(bytes);
  REQUIRE(m.data());
  CHECK(std::vector<uint8_t>(m.data()->begin(), m.data()->end()) == std::vector<uint8_t>{1, 2, 3});
  CHECK(decoded(withAttr(attr::Data, {})).data()->empty());
  CHECK(decoded(withAttr(attr::DontFragment, {})).dontFragment());
}

TEST_CASE("ERROR-CODE parsing") {
  const std::string reason = "Stale Nonce";
  std::vector<uint8_t> v = {0, 0, 4, 38};
  v.insert(v.end(), reason.begin(), reason.end());
  const auto bytes = withAttr(attr::ErrorCode, v);
  auto e = decoded(bytes).errorCode();
  REQUIRE(e);
  CHECK(e->code == 438);
  CHECK(e->reason == "Stale Nonce");
  CHECK(decoded(withAttr(attr::ErrorCode, {0xFF, 0xFF, 0xF3, 0})).errorCode()->code ==
        300);  // reserved bits ignored
  CHECK(decoded(withAttr(attr::ErrorCode, {0, 0, 6, 99})).errorCode()->code == 699);
  CHECK_FALSE(decoded(withAttr(attr::ErrorCode, {0, 0, 2, 0})).errorCode());
  CHECK_FALSE(decoded(withAttr(attr::ErrorCode, {0, 0, 7, 0})).errorCode());
  CHECK_FALSE(decoded(withAttr(attr::ErrorCode, {0, 0, 4, 100})).errorCode());
  CHECK_FALSE(decoded(withAttr(attr::ErrorCode, {0, 0, 4})).errorCode());
  std::vector<uint8_t> longReason = {0, 0, 4, 0};
  longReason.resize(4 + 764, 'x');
  CHECK_FALSE(decoded(withAttr(attr::ErrorCode, longReason)).errorCode());
}

TEST_CASE("PASSWORD-ALGORITHM parsing") {
  const auto empty = withAttr(attr::PasswordAlgorithm, {0, 2, 0, 0});
  auto p = decoded(empty).passwordAlgorithm();
  REQUIRE(p);
  CHECK(p->algorithm == 2);
  CHECK(p->parameters.empty());
  const auto withParams = withAttr(attr::PasswordAlgorithm, {0, 1, 0, 2, 0xAA, 0xBB, 0, 0});
  p = decoded(withParams).passwordAlgorithm();
  REQUIRE(p);
  CHECK(p->parameters.size() == 2);
  CHECK(p->parameters[1] == 0xBB);
  CHECK_FALSE(decoded(withAttr(attr::PasswordAlgorithm, {0, 1, 0, 9, 0xAA})).passwordAlgorithm());
  CHECK_FALSE(decoded(withAttr(attr::PasswordAlgorithm, {0, 1})).passwordAlgorithm());
}

TEST_CASE("address getters reject bad families and lengths") {
  // Family 0x03, and an IPv4 family with an IPv6-sized value.
  CHECK_FALSE(decoded(withAttr(attr::XorMappedAddress, {0, 3, 0, 1, 1, 2, 3, 4})).xorMappedAddress());
  CHECK_FALSE(decoded(withAttr(attr::XorMappedAddress, std::vector<uint8_t>{0, 1, 0, 1, 1, 2, 3, 4, 0, 0,
                                                                            0, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
                  .xorMappedAddress());
  CHECK_FALSE(decoded(withAttr(attr::XorRelayedAddress, {0, 2, 0, 1, 1, 2, 3, 4})).xorRelayedAddress());
  CHECK_FALSE(decoded(withAttr(attr::MappedAddress, {0, 1, 0, 1, 1, 2, 3})).mappedAddress());
  CHECK(decoded(withAttr(attr::MappedAddress, {0, 1, 0x0d, 0x96, 1, 2, 3, 4})).mappedAddress() ==
        SocketAddress::parse("1.2.3.4:3478"));
  CHECK(decoded(withAttr(attr::AlternateServer, {0, 1, 0x0d, 0x96, 1, 2, 3, 4})).alternateServer() ==
        SocketAddress::parse("1.2.3.4:3478"));
}

TEST_CASE("xorPeerAddresses collects and counts beyond capacity and flags malformed ones") {
  auto m = rawHeader(Method::CreatePermission, MessageClass::Request, makeTxid(8));
  // XOR-PEER-ADDRESS 1.2.3.4:5 / 5.6.7.8:6 for this transaction id (port/addr XOR cookie).
  const std::vector<uint8_t> a = {0, 1, 0x21, 0x12 ^ 5, 0x21 ^ 1, 0x12 ^ 2, 0xA4 ^ 3, 0x42 ^ 4};
  const std::vector<uint8_t> b = {0, 1, 0x21, 0x12 ^ 6, 0x21 ^ 5, 0x12 ^ 6, 0xA4 ^ 7, 0x42 ^ 8};
  appendRaw(m, attr::XorPeerAddress, a);
  appendRaw(m, attr::Lifetime, {0, 0, 0, 1});
  appendRaw(m, attr::XorPeerAddress, b);
  appendRaw(m, attr::XorPeerAddress, a);
  const Message msg = decoded(m);
  std::array<SocketAddress, 2> out;
  bool malformed = true;
  CHECK(msg.xorPeerAddresses(out, malformed) == 3);
  CHECK_FALSE(malformed);
  CHECK(out[0] == SocketAddress::parse("1.2.3.4:5"));
  CHECK(out[1] == SocketAddress::parse("5.6.7.8:6"));
  CHECK(msg.xorPeerAddresses({}, malformed) == 3);

  appendRaw(m, attr::XorPeerAddress, {0, 9, 0, 0, 0, 0, 0, 0});
  const Message bad = decoded(m);
  std::array<SocketAddress, 8> all;
  CHECK(bad.xorPeerAddresses(all, malformed) == 4);
  CHECK(malformed);
  CHECK(all[3] == SocketAddress{});
}

TEST_CASE("find returns the first occurrence") {
  auto m = rawHeader(Method::Refresh, MessageClass::Request, makeTxid(9));
  appendRaw(m, attr::Lifetime, {0, 0, 0, 1});
  appendRaw(m, attr::Lifetime, {0, 0, 0, 2});
  const Message msg = decoded(m);
  CHECK(msg.lifetime() == 1u);
  CHECK(msg.find(attr::Lifetime) == &msg.attributes()[0]);
}
