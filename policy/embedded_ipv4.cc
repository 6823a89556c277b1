#include "policy/embedded_ipv4.h"

namespace tw::policy {
namespace {

/// The top `bits` bits of `a` (bits <= 64), as an integer.
uint64_t topBits(U128 a, int bits) { return static_cast<uint64_t>(a >> (128 - bits)); }

/// 32 bits of `a` starting at bit `from` (bit 0 = most significant).
uint32_t bits32At(U128 a, int from) { return static_cast<uint32_t>(a >> (128 - 32 - from)); }

// Prefix values, right-aligned (compared against the address shifted right
// by its host-bit count).
constexpr U128 kCompat96 = 0;                        // ::/96
constexpr U128 kMapped96 = 0xffff;                   // ::ffff:0:0/96
constexpr U128 kSiit96 = 0xffff0000;                 // ::ffff:0:0:0/96
constexpr U128 kNat64_96 = U128{0x0064ff9b} << 64;   // 64:ff9b::/96
constexpr uint64_t kLocalNat64_48 = 0x0064ff9b0001;  // 64:ff9b:1::/48
constexpr uint64_t kSixToFour16 = 0x2002;            // 2002::/16
constexpr uint64_t kTeredo32 = 0x20010000;           // 2001:0::/32

/// The /96 layouts all keep the IPv4 in the last 32 bits.
void addLast32Layouts(U128 a, EmbeddedIpv4List& out) {
  const U128 prefix = a >> 32;
  const uint32_t low = static_cast<uint32_t>(a);
  const bool compat = prefix == kCompat96 && low > 1;  // not :: or ::1, see header
  if (compat || prefix == kMapped96 || prefix == kSiit96 || prefix == kNat64_96) out.push(IpAddress::v4(low));
}

/// RFC 6052 2.2: the IPv4 follows a prefix of length `prefixLen` (32, 40,
/// 48, 56, 64 or 96), skipping the reserved u-octet (bits 64..71). Dropping
/// the u-octet first turns every layout into one shift.
uint32_t rfc6052Ipv4(U128 a, int prefixLen) {
  const U128 low56 = a & ((U128{1} << 56) - 1);
  const U128 withoutU = ((a >> 64) << 56) | low56;  // bits 0..63, then 72..127
  const int afterPrefix = prefixLen > 64 ? prefixLen - 8 : prefixLen;
  return static_cast<uint32_t>(withoutU >> (120 - afterPrefix - 32));
}

/// 64:ff9b:1::/48 may be subnetted with any RFC 6052 prefix length from /48
/// to /96, and we cannot know which one the translator uses, so every
/// reading is a candidate.
void addLocalNat64(U128 a, EmbeddedIpv4List& out) {
  if (topBits(a, 48) != kLocalNat64_48) return;
  for (int prefixLen : {48, 56, 64, 96}) {
    const IpAddress v4 = IpAddress::v4(rfc6052Ipv4(a, prefixLen));
    bool seen = false;
    for (const IpAddress& e : out) seen = seen || e == v4;
    if (!seen) out.push(v4);
  }
}

void addTunnels(U128 a, EmbeddedIpv4List& out) {
  if (topBits(a, 16) == kSixToFour16) out.push(IpAddress::v4(bits32At(a, 16)));
  if (topBits(a, 32) == kTeredo32) {
    out.push(IpAddress::v4(static_cast<uint32_t>(a) ^ 0xffffffffu));  // client, obfuscated
    out.push(IpAddress::v4(bits32At(a, 32)));                         // server
  }
}

}  // namespace

EmbeddedIpv4List embeddedIpv4All(const IpAddress& v6) {
  EmbeddedIpv4List out;
  if (!v6.isV6()) return out;
  const U128 a = v6.v6Value();
  addLast32Layouts(a, out);
  addLocalNat64(a, out);
  addTunnels(a, out);
  return out;
}

std::optional<IpAddress> embeddedIpv4(const IpAddress& v6) {
  const EmbeddedIpv4List all = embeddedIpv4All(v6);
  if (all.empty()) return std::nullopt;
  return all[0];
}

}  // namespace tw::policy
