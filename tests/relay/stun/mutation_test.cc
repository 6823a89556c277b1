// Bounded random mutation of valid messages: decode() and every getter must
// never read out of bounds, crash or break their invariants. Each mutated
// copy lives in its own exactly-sized heap buffer, so the ASan build flags
// any over-read.
#include <catch2/catch.hpp>
#include <memory>

#include "relay/base/crypto.h"
#include "relay/base/random.h"
#include "relay/stun/byte_io.h"
#include "relay/stun/stun.h"
#include "stun_test_util.h"
#include "tests/vectors/rfc5769.h"

using namespace tw;
using namespace tw::stun;
using namespace tw::stun::testing;
namespace v = tw::vectors::rfc5769;

namespace {

std::vector<std::vector<uint8_t>> seeds() {
  std::vector<std::vector<uint8_t>> s = {toVector(v::kSampleRequest), toVector(v::kSampleIpv4Response),
                                         toVector(v::kSampleIpv6Response),
                                         toVector(v::kSampleLongTermRequest)};
  const std::vector<uint8_t> key = {1, 2, 3, 4};
  std::vector<uint8_t> out;
  MessageBuilder(out, Method::CreatePermission, MessageClass::Request, makeTxid(1))
      .addXorAddress(attr::XorPeerAddress, *SocketAddress::parse("[2001:db8::1]:1"))
      .addXorAddress(attr::XorPeerAddress, *SocketAddress::parse("192.0.2.1:2"))
      .addString(attr::Username, "u")
      .addErrorCode(438)
      .addEvenPort(true)
      .addU64(attr::ReservationToken, 7)
      .addBytes(attr::PasswordAlgorithm, std::vector<uint8_t>{0, 1, 0, 1, 9, 0, 0, 0})
      .addMessageIntegrity(key)
      .addMessageIntegritySha256(key, 24)
      .addFingerprint();
  s.push_back(out);
  return s;
}

void mutate(std::vector<uint8_t>& m, Random& rng) {
  const uint32_t ops = 1 + rng.below(4);
  for (uint32_t i = 0; i < ops; ++i) {
    const uint32_t where = m.empty() ? 0 : rng.below(static_cast<uint32_t>(m.size()));
    switch (rng.below(7)) {
      case 0:
        if (!m.empty()) m[where] ^= static_cast<uint8_t>(1u << rng.below(8));
        break;
      case 1:
        if (!m.empty()) m[where] = static_cast<uint8_t>(rng.u32());
        break;
      case 2:
        m.resize(where);
        break;
      case 3:
        m.resize(m.size() + 1 + rng.below(8), static_cast<uint8_t>(rng.u32()));
        break;
      case 4:  // corrupt an attribute length field at a 4-aligned position
        if (m.size() >= 24)
          put16(m, 20 + 4 * rng.below(static_cast<uint32_t>((m.size() - 20) / 4)) + 2,
                static_cast<uint16_t>(rng.u32()));
        break;
      case 5:
        if (m.size() >= 4) put16(m, 2, static_cast<uint16_t>(rng.u32()));
        break;
      default:
        break;
    }
  }
  // Half the time keep the header length consistent so the TLV walk runs.
  if (m.size() >= kHeaderSize && rng.below(2) == 0) {
    m.resize(m.size() & ~size_t{3});
    fixLength(m);
  }
}

/// Touches every accessor; returns a value so nothing is optimised away.
size_t exercise(const Message& m) {
  size_t sink = m.attributes().size() + m.unknownComprehensionRequired().size();
  const std::vector<uint8_t> key = {1, 2, 3, 4};
  sink += verifyMessageIntegrity(m, key) + verifyMessageIntegritySha256(m, key);
  sink += m.username().value_or("").size() + m.realm().value_or("").size() + m.nonce().value_or("").size();
  sink += m.software().value_or("").size() + m.lifetime().value_or(0) + m.requestedTransport().value_or(0);
  sink += m.channelNumber().value_or(0) + (m.data() ? m.data()->size() : 0) + m.evenPort().has_value();
  sink += m.reservationToken().value_or(0) + m.requestedAddressFamily().value_or(0);
  sink += m.additionalAddressFamily().value_or(0) + m.connectionId().value_or(0) + m.dontFragment();
  sink += m.errorCode() ? m.errorCode()->reason.size() : 0;
  sink += m.userhash().has_value() + (m.passwordAlgorithm() ? m.passwordAlgorithm()->parameters.size() : 0);
  sink +=
      m.xorMappedAddress().has_value() + m.xorRelayedAddress().has_value() + m.mappedAddress().has_value();
  std::array<SocketAddress, 3> peers;
  bool malformed = false;
  sink += m.xorPeerAddresses(peers, malformed);
  for (const RawAttribute& a : m.attributes()) sink += m.xorAddress(a).has_value() + m.address(a).has_value();
  return sink;
}

/// Invariants every successfully decoded message must satisfy.
void checkInvariants(const Message& m, std::span<const uint8_t> bytes) {
  REQUIRE(m.bytes().size() == bytes.size());
  REQUIRE(m.attributes().size() <= kMaxAttributes);
  for (const RawAttribute& a : m.attributes()) {
    REQUIRE(a.offset >= kHeaderSize + kAttributeHeaderSize);
    REQUIRE(size_t{a.offset} + a.length <= bytes.size());
  }
  if (const RawAttribute* fp = m.find(attr::Fingerprint)) {
    REQUIRE(fp->offset + 4u == bytes.size());
    REQUIRE(stun::detail::readU32(bytes.data() + fp->offset) ==
            fingerprintOf(bytes.first(fp->offset - kAttributeHeaderSize)));
  }
  if (const RawAttribute* mi = m.find(attr::MessageIntegrity)) REQUIRE(mi->length == 20);
}

}  // namespace

TEST_CASE("20000 mutated messages never break decode") {
  SeededRandom rng(0x5EED);
  const auto base = seeds();
  size_t decodedOk = 0;
  size_t rejected = 0;
  size_t sink = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> m = base[rng.below(static_cast<uint32_t>(base.size()))];
    mutate(m, rng);
    auto exact = std::make_unique<uint8_t[]>(m.size() + 1);  // +1 so size 0 still allocates
    std::copy(m.begin(), m.end(), exact.get());
    const std::span<const uint8_t> bytes(exact.get(), m.size());
    auto r = decode(bytes);
    if (r.ok()) {
      ++decodedOk;
      checkInvariants(*r, bytes);
      sink += exercise(*r);
    } else {
      ++rejected;
    }
    auto cd = decodeChannelData(bytes);
    if (cd.ok()) REQUIRE(cd->payload.data() + cd->payload.size() <= bytes.data() + bytes.size());
    sink += streamFrameLength(bytes).value_or(0);
  }
  // Both paths must have been exercised, or the mutator is useless.
  CHECK(decodedOk + rejected == 20000);
  CHECK(decodedOk > 500);
  CHECK(rejected > 500);
  CHECK(sink > 0);
}

TEST_CASE("random garbage never decodes as STUN with a FINGERPRINT") {
  SeededRandom rng(42);
  size_t decodedOk = 0;
  size_t rejected = 0;
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> m(20 + 4 * rng.below(32));
    rng.fill(m);
    m[0] &= 0x3F;
    for (int k = 0; k < 4; ++k) m[4 + k] = static_cast<uint8_t>(kMagicCookie >> (24 - 8 * k));
    fixLength(m);
    auto r = decode(m);
    if (r.ok()) {
      ++decodedOk;
      CHECK_FALSE(r->hasFingerprint());
    } else {
      ++rejected;
    }
  }
  // Garbage with a valid header must reach both answers, or the check above tests nothing.
  CHECK(decodedOk > 0);
  CHECK(rejected > 0);
}
