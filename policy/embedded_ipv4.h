#pragma once
// IPv4 addresses hidden inside IPv6 addresses. A peer such as ::ffff:127.0.0.1
// or 64:ff9b::7f00:1 can end up at an IPv4 destination (through the kernel's
// dual-stack sockets, a NAT64 box, a 6to4 relay or a Teredo relay), so peer
// rules must check the embedded IPv4 as well as the IPv6 address itself
// (threats.md, "IPv4 in IPv6 clothing").
//
// Layouts recognised (bit 0 = most significant bit of the IPv6 address):
//
//   IPv4-mapped     ::ffff:0:0/96     RFC 4291 2.5.5.2
//   +--------------------------------------+------+----------+
//   |                80 zero bits           | ffff | IPv4 (32)|
//   +--------------------------------------+------+----------+
//   IPv4-compatible ::/96             RFC 4291 2.5.5.1 (deprecated)
//   +---------------------------------------------+----------+
//   |                96 zero bits                 | IPv4 (32)|
//   +---------------------------------------------+----------+
//   SIIT            ::ffff:0:0:0/96   RFC 2765 (IPv4-translated)
//   +-----------------------------+------+------+----------+
//   |         64 zero bits        | ffff | 0000 | IPv4 (32)|
//   +-----------------------------+------+------+----------+
//   NAT64 well-known 64:ff9b::/96     RFC 6052 2.1
//   +---------------------------------------------+----------+
//   |               64:ff9b:: (96)                | IPv4 (32)|
//   +---------------------------------------------+----------+
//   NAT64 local-use 64:ff9b:1::/48    RFC 8215; RFC 6052 2.2 layouts for
//   every prefix length that fits inside the /48 (u = bits 64..71, skipped):
//     /48  | 64:ff9b:1 (48) | v4 (16) | u | v4 (16) | suffix (40) |
//     /56  | 64:ff9b:1:xx (56)  |v4(8)| u | v4 (24) | suffix (32) |
//     /64  | 64:ff9b:1:xxxx (64)      | u | v4 (32) | suffix (24) |
//     /96  | 64:ff9b:1:xxxx:xxxx:xxxx (96)          | v4 (32)     |
//   6to4            2002::/16         RFC 3056
//   +--------+-------------------+---------------------------+
//   |  2002  |   IPv4 (32)       |   SLA + interface ID (80) |
//   +--------+-------------------+---------------------------+
//     0..15       16..47
//   Teredo          2001:0::/32       RFC 4380 4
//   +-----------+--------------+-------+-------+--------------+
//   | 2001:0000 | server IPv4  | flags | port  | client IPv4  |
//   |   (32)    |   (32)       | (16)  | (16)  | XOR ffffffff |
//   +-----------+--------------+-------+-------+--------------+
//     0..31        32..63                        96..127
#include <array>
#include <cstddef>
#include <optional>

#include "relay/base/address.h"

namespace tw::policy {

/// Every IPv4 an IPv6 address may lead to, without heap allocation (the peer
/// check runs for every permission and on every reload re-check).
class EmbeddedIpv4List {
 public:
  /// The most any layout yields is 4 (local-use NAT64); the prefixes are
  /// disjoint, so one address never collects from two layouts. Keep this
  /// in step if a layout is added: push() beyond it would drop a candidate.
  static constexpr size_t kCapacity = 4;
  void push(const IpAddress& a) {
    if (count_ < kCapacity) items_[count_++] = a;
  }
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  const IpAddress& operator[](size_t i) const { return items_[i]; }
  const IpAddress* begin() const { return items_.data(); }
  const IpAddress* end() const { return items_.data() + count_; }

 private:
  std::array<IpAddress, kCapacity> items_{};
  size_t count_ = 0;
};

/// All IPv4 addresses embedded in `v6` by the layouts above; empty for an
/// IPv4 address or an IPv6 address in none of those prefixes. Decisions:
///  - ::/96 (compatible) carries an IPv4 *except* :: and ::1. Those two are
///    the IPv6 unspecified and loopback addresses (RFC 4291 2.5.2/2.5.3), not
///    0.0.0.0 / 0.0.0.1; :: is denied by the peer rules on its own, and ::1
///    by the built-in loopback entry, and an operator who explicitly allows
///    ::1 (loopback e2e tests) must not be blocked by a fake IPv4 reading.
///    ::2 .. ::ffff:ffff do yield 0.0.0.2 .. 255.255.255.255.
///  - 64:ff9b:1::/48 yields up to four candidates, one per RFC 6052 layout
///    (/48, /56, /64, /96), duplicates removed: the local-use prefix may be
///    subnetted at any of those lengths and we cannot know which length the
///    translator uses, so checking them all is the conservative choice. The
///    consequence is that most addresses there have some reading inside
///    0.0.0.0/8 and are denied as "unspecified" whatever the config says;
///    a TURN relay has no business relaying to a local NAT64 anyway.
///  - Teredo yields the client (last 32 bits XOR 0xffffffff) first, then the
///    server (bits 32..63): a Teredo relay talks to both.
EmbeddedIpv4List embeddedIpv4All(const IpAddress& v6);

/// The first entry of embeddedIpv4All(), if any: the IPv4 a packet to `v6`
/// most directly reaches.
std::optional<IpAddress> embeddedIpv4(const IpAddress& v6);

}  // namespace tw::policy
