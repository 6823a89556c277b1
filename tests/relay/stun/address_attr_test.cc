#include "relay/stun/address_attr.h"

#include <catch2/catch.hpp>
#include <vector>

#include "tests/vectors/rfc5769.h"

using namespace tw;
using namespace tw::stun;
namespace v = tw::vectors::rfc5769;

namespace {

std::vector<uint8_t> encodeXor(const SocketAddress& a, const TransactionId& txid) {
  std::vector<uint8_t> out(addressValueSize(a), 0xEE);
  encodeXorAddress(out, a, txid);
  return out;
}

}  // namespace

TEST_CASE("XOR address IPv4 matches RFC 5769 2.2") {
  const auto a = *SocketAddress::parse(v::kMappedIpv4);
  const auto value = encodeXor(a, v::kTransactionId);
  const std::vector<uint8_t> expected(v::kSampleIpv4Response.begin() + 40,
                                      v::kSampleIpv4Response.begin() + 48);
  CHECK(value == expected);
  CHECK(decodeXorAddress(expected, v::kTransactionId) == a);
}

TEST_CASE("XOR address IPv6 matches RFC 5769 2.3") {
  const auto a = *SocketAddress::parse(v::kMappedIpv6);
  const auto value = encodeXor(a, v::kTransactionId);
  const std::vector<uint8_t> expected(v::kSampleIpv6Response.begin() + 40,
                                      v::kSampleIpv6Response.begin() + 60);
  CHECK(value == expected);
  CHECK(decodeXorAddress(expected, v::kTransactionId) == a);
}

TEST_CASE("IPv6 XOR depends on the transaction id and IPv4 XOR does not") {
  TransactionId other = v::kTransactionId;
  other[11] ^= 0xFF;
  const auto v6 = *SocketAddress::parse("[2001:db8::1]:1000");
  const auto v4 = *SocketAddress::parse("198.51.100.7:1000");
  CHECK(encodeXor(v6, other) != encodeXor(v6, v::kTransactionId));
  CHECK(encodeXor(v4, other) == encodeXor(v4, v::kTransactionId));
  CHECK(decodeXorAddress(encodeXor(v6, v::kTransactionId), other) != v6);
}

TEST_CASE("plain address round trip and layout") {
  const auto a = *SocketAddress::parse("192.0.2.1:32853");
  std::vector<uint8_t> out(8, 0xEE);
  encodeAddress(out, a);
  CHECK(out == std::vector<uint8_t>{0, 1, 0x80, 0x55, 192, 0, 2, 1});
  CHECK(decodeAddress(out) == a);
  const auto b = *SocketAddress::parse("[::1]:0");
  std::vector<uint8_t> out6(20, 0xEE);
  encodeAddress(out6, b);
  CHECK(out6[0] == 0);
  CHECK(out6[1] == 2);
  CHECK(out6[19] == 1);
  CHECK(decodeAddress(out6) == b);
}

TEST_CASE("address decode rejects bad family/length pairs") {
  CHECK_FALSE(decodeAddress(std::vector<uint8_t>{}));
  CHECK_FALSE(decodeAddress(std::vector<uint8_t>{0, 1, 0, 0}));
  CHECK_FALSE(decodeAddress(std::vector<uint8_t>{0, 1, 0, 0, 1, 2, 3}));
  CHECK_FALSE(decodeAddress(std::vector<uint8_t>{0, 2, 0, 0, 1, 2, 3, 4}));
  CHECK_FALSE(decodeAddress(std::vector<uint8_t>{0, 0, 0, 0, 1, 2, 3, 4}));
  CHECK_FALSE(decodeXorAddress(std::vector<uint8_t>{0, 1, 0, 0, 1, 2, 3}, v::kTransactionId));
  CHECK_FALSE(decodeXorAddress(std::vector<uint8_t>(21, 0), v::kTransactionId));
  std::vector<uint8_t> v6(20, 0);
  v6[1] = 1;  // IPv4 family with 20 bytes
  CHECK_FALSE(decodeXorAddress(v6, v::kTransactionId));
}
