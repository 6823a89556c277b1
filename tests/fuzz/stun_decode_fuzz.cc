// libFuzzer target: the STUN decoder and the integrity checks.
//
// Input: one flag byte, then the datagram. The flag's low bit asks the
// harness to sign the datagram first: if it decodes and holds a
// MESSAGE-INTEGRITY (or MI-SHA256), the harness computes the HMAC itself,
// from the wire bytes, and writes it in, so the verifying path (not only the
// rejecting one) is reached. Invariants checked on every input:
//  - every indexed attribute lies inside the message;
//  - no attribute after MESSAGE-INTEGRITY is visible except MI-SHA256 and
//    FINGERPRINT, none after MI-SHA256 except FINGERPRINT (GHSA-m23x-5qf5-988g);
//  - a signed message verifies with the key and never with another key or
//    with the empty key;
//  - every typed getter returns without reading outside the datagram (ASan).
#include <array>
#include <cstring>
#include <vector>

#include "relay/base/crypto.h"
#include "relay/stun/stun.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace tw;
using namespace tw::stun;

constexpr std::array<uint8_t, 16> kKey = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
constexpr std::array<uint8_t, 16> kOtherKey = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};

uint16_t be16(const std::vector<uint8_t>& b, size_t at) {
  return static_cast<uint16_t>(b[at] << 8 | b[at + 1]);
}

/// Walks the TLVs of a decodable message independently of the decoder and
/// returns the value offset of the first attribute of `type` (0: none).
size_t firstOffsetOf(const std::vector<uint8_t>& b, uint16_t type) {
  for (size_t pos = 20; pos + 4 <= b.size();) {
    const uint16_t t = be16(b, pos), len = be16(b, pos + 2);
    if (t == type) return pos + 4;
    pos += 4 + ((len + 3u) & ~3u);
  }
  return 0;
}

/// HMAC over the message up to the integrity attribute at `valueOffset`, with
/// the header length rewritten to end after it (RFC 8489 §14.5), written in.
template <size_t N>
void sign(std::vector<uint8_t>& b, size_t valueOffset, size_t macLength, const std::array<uint8_t, N>& mac) {
  std::memcpy(b.data() + valueOffset, mac.data(), macLength);
}

void signMessage(std::vector<uint8_t>& b, uint16_t type) {
  const size_t at = firstOffsetOf(b, type);
  if (at == 0) return;
  const size_t macLength = be16(b, at - 2);
  std::vector<uint8_t> prefix(b.begin(), b.begin() + static_cast<long>(at - 4));
  const size_t lengthField = at + macLength + ((4 - macLength % 4) % 4) - 20;
  prefix[2] = static_cast<uint8_t>(lengthField >> 8);
  prefix[3] = static_cast<uint8_t>(lengthField);
  if (type == attr::MessageIntegrity && macLength == 20) sign(b, at, 20, hmacSha1(kKey, prefix));
  if (type == attr::MessageIntegritySha256 && macLength <= 32)
    sign(b, at, macLength, hmacSha256(kKey, prefix));
}

/// Rewrites a FINGERPRINT at the end of the message after signing changed the bytes.
void fixFingerprint(std::vector<uint8_t>& b) {
  const size_t at = firstOffsetOf(b, attr::Fingerprint);
  if (at == 0 || at + 4 != b.size()) return;
  const uint32_t fp = crc32(Bytes(b.data(), at - 4)) ^ 0x5354554Eu;
  for (int i = 0; i < 4; ++i) b[at + static_cast<size_t>(i)] = static_cast<uint8_t>(fp >> (24 - 8 * i));
}

void exerciseGetters(const Message& m) {
  (void)m.messageClass();
  (void)m.username();
  (void)m.realm();
  (void)m.nonce();
  (void)m.software();
  (void)m.lifetime();
  (void)m.requestedTransport();
  (void)m.channelNumber();
  (void)m.data();
  (void)m.evenPort();
  (void)m.reservationToken();
  (void)m.requestedAddressFamily();
  (void)m.additionalAddressFamily();
  (void)m.connectionId();
  (void)m.errorCode();
  (void)m.userhash();
  (void)m.passwordAlgorithm();
  (void)m.xorMappedAddress();
  (void)m.xorRelayedAddress();
  (void)m.mappedAddress();
  (void)m.alternateServer();
  std::array<SocketAddress, 4> peers;
  bool malformed = false;
  (void)m.xorPeerAddresses(peers, malformed);
  for (const RawAttribute& a : m.attributes()) {
    (void)m.xorAddress(a);
    (void)m.address(a);
  }
}

void checkVisibility(const Message& m, const std::vector<uint8_t>& b) {
  const size_t mi = firstOffsetOf(b, attr::MessageIntegrity);
  const size_t sha = firstOffsetOf(b, attr::MessageIntegritySha256);
  for (const RawAttribute& a : m.attributes()) {
    FUZZ_CHECK(size_t(a.offset) + a.length <= b.size());
    if (mi && a.offset > mi)
      FUZZ_CHECK(a.type == attr::MessageIntegritySha256 || a.type == attr::Fingerprint);
    if (sha && a.offset > sha && (!mi || sha < mi)) FUZZ_CHECK(a.type == attr::Fingerprint);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tw::fuzz::FuzzInput in(data, size);
  const uint8_t flags = in.u8();
  auto rest = in.all();
  std::vector<uint8_t> bytes(rest.begin(), rest.end());
  auto first = decode(bytes);
  if (!first) return 0;
  if (flags & 1) {
    signMessage(bytes, attr::MessageIntegrity);
    signMessage(bytes, attr::MessageIntegritySha256);
    fixFingerprint(bytes);
  }
  auto m = decode(bytes);
  if (!m) return 0;
  exerciseGetters(*m);
  checkVisibility(*m, bytes);
  const bool mi = verifyMessageIntegrity(*m, kKey);
  const bool sha = verifyMessageIntegritySha256(*m, kKey);
  FUZZ_CHECK(!verifyMessageIntegrity(*m, std::span<const uint8_t>()));
  FUZZ_CHECK(!verifyMessageIntegritySha256(*m, std::span<const uint8_t>()));
  if (mi) FUZZ_CHECK(!verifyMessageIntegrity(*m, kOtherKey));
  if (sha) FUZZ_CHECK(!verifyMessageIntegritySha256(*m, kOtherKey));
  // A message signed by the harness whose MI the decoder kept must verify.
  if ((flags & 1) && m->hasMessageIntegrity() &&
      firstOffsetOf(bytes, attr::MessageIntegrity) == size_t(m->find(attr::MessageIntegrity)->offset))
    FUZZ_CHECK(mi);
  return 0;
}
