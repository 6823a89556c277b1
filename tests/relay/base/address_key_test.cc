// SipHash-2-4 (relay/base/siphash.h) against the paper's vector and OpenSSL's
// own SIPHASH MAC, and the per-client keys of the per-IP tables
// (relay/base/address_key.h): an IPv6 client is its /64 (issue 22, finding 8).
#include "relay/base/address_key.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <vector>

#include "relay/base/ip_table.h"
#include "relay/base/random.h"
#include "relay/base/siphash.h"

using namespace tw;

namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

/// OpenSSL's SipHash-2-4 with an 8-byte output, read as the little-endian u64.
uint64_t opensslSipHash(const std::array<uint8_t, 16>& key, const std::vector<uint8_t>& data) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "SIPHASH", nullptr);
  REQUIRE(mac);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  size_t size = 8;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size), OSSL_PARAM_END};
  REQUIRE(EVP_MAC_init(ctx, key.data(), key.size(), params) == 1);
  REQUIRE(EVP_MAC_update(ctx, data.data(), data.size()) == 1);
  std::array<uint8_t, 8> out{};
  size_t len = 0;
  REQUIRE(EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1);
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v |= uint64_t{out[i]} << (8 * i);
  return v;
}

SipKey keyOf(const std::array<uint8_t, 16>& k) {
  uint64_t k0 = 0, k1 = 0;
  for (int i = 0; i < 8; ++i) k0 |= uint64_t{k[i]} << (8 * i);
  for (int i = 0; i < 8; ++i) k1 |= uint64_t{k[8 + i]} << (8 * i);
  return SipKey{k0, k1};
}

}  // namespace

TEST_CASE("SipHash-2-4: the paper's test vector (key 00..0f, message 00..0e)") {
  std::array<uint8_t, 16> key{};
  for (int i = 0; i < 16; ++i) key[i] = static_cast<uint8_t>(i);
  std::vector<uint8_t> msg(15);
  for (int i = 0; i < 15; ++i) msg[i] = static_cast<uint8_t>(i);
  CHECK(sipHash24(keyOf(key), msg) == 0xa129ca6149be45e5ULL);
}

TEST_CASE("SipHash-2-4 agrees with OpenSSL's SIPHASH for every length 0-64 and random keys") {
  CsprngRandom rng;
  for (size_t n = 0; n <= 64; ++n) {
    std::array<uint8_t, 16> key{};
    rng.fill(key);
    std::vector<uint8_t> msg(n);
    rng.fill(msg);
    CHECK(sipHash24(keyOf(key), msg) == opensslSipHash(key, msg));
  }
}

TEST_CASE("The key decides the hash: another key, another value") {
  const IpAddress a = ip("2001:db8::1");
  CHECK(keyedHash(SipKey{1, 2}, a) != keyedHash(SipKey{1, 3}, a));
  CHECK(keyedHash(SipKey{1, 2}, a) == keyedHash(SipKey{1, 2}, a));
  CHECK(keyedHash(SipKey{1, 2}, SocketAddress{a, 1}) != keyedHash(SipKey{1, 2}, SocketAddress{a, 2}));
}

TEST_CASE("clientKey: one IPv6 /64 is one client, IPv4 and IPv4-mapped stay whole") {
  CHECK(clientKey(ip("2001:db8:1:2:aaaa::1"), 64) == ip("2001:db8:1:2::"));
  CHECK(clientKey(ip("2001:db8:1:2:bbbb:cccc:dddd:eeee"), 64) == ip("2001:db8:1:2::"));
  CHECK(clientKey(ip("2001:db8:1:3::1"), 64) != clientKey(ip("2001:db8:1:2::1"), 64));
  CHECK(clientKey(ip("2001:db8:1:2ff::1"), 56) == ip("2001:db8:1:200::"));
  CHECK(clientKey(ip("2001:db8:ffff::1"), 33) == ip("2001:db8:8000::"));
  CHECK(clientKey(ip("2001:db8::1"), 128) == ip("2001:db8::1"));
  CHECK(clientKey(ip("192.0.2.1"), 64) == ip("192.0.2.1"));
  CHECK(clientKey(ip("192.0.2.2"), 64) != clientKey(ip("192.0.2.1"), 64));
  CHECK(clientKey(ip("::ffff:192.0.2.1"), 64) == ip("::ffff:192.0.2.1"));
  const SocketAddress s{ip("2001:db8::5"), 4000};
  CHECK(clientKey(s, 64) == SocketAddress{ip("2001:db8::"), 4000});
}

TEST_CASE("IpTable: a full table under one key spreads 4096 IPv6 /64s over its sets") {
  IpTable<int> t(64, SipKey{7, 9});
  std::vector<int> perSet(64, 0);
  size_t fresh = 0;
  for (uint32_t i = 0; i < 4096; ++i) {
    std::array<uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8};
    b[4] = static_cast<uint8_t>(i >> 8);
    b[5] = static_cast<uint8_t>(i);
    auto& e = t.touch(IpAddress::v6(b), Instant{});
    fresh += e.value == 0;
    e.value = 1;
  }
  CHECK(fresh == 4096);
  size_t kept = 0;
  t.forEach([&](auto&) { ++kept; });
  CHECK(kept == t.capacity());  // every set was reached: none left empty
}
