#include "relay/stun/fingerprint.h"

#include <catch2/catch.hpp>
#include <string_view>

#include "relay/base/crypto.h"
#include "tests/vectors/rfc5769.h"

using namespace tw::stun;
namespace v = tw::vectors::rfc5769;

TEST_CASE("fingerprint is CRC-32 XOR 0x5354554e") {
  // CRC-32 check value of "123456789" is 0xCBF43926.
  CHECK(fingerprintOf(tw::asBytes("123456789")) == (0xCBF43926u ^ 0x5354554eu));
  CHECK(fingerprintOf({}) == kFingerprintXor);  // CRC-32 of nothing is 0
}

TEST_CASE("fingerprint reproduces the RFC 5769 values") {
  const std::span<const uint8_t> req(v::kSampleRequest);
  CHECK(fingerprintOf(req.first(req.size() - 8)) == 0xe57a3bcfu);
  const std::span<const uint8_t> v4(v::kSampleIpv4Response);
  CHECK(fingerprintOf(v4.first(v4.size() - 8)) == 0xc07d4c96u);
  const std::span<const uint8_t> v6(v::kSampleIpv6Response);
  CHECK(fingerprintOf(v6.first(v6.size() - 8)) == 0xc8fb0b4cu);
}
