#pragma once
// The one place per-client state gets its key (issue 22, finding 8). Limits
// that count "per IP" (rate limits, bans, per-IP quotas, the credentials
// endpoint's bucket) see an IPv4 client as its whole address, but an IPv6
// client as its first `v6Prefix` bits (default 64, `ipv6_client_prefix:`):
// one subscriber usually holds a whole /64, so keying on the /128 would give
// one holder 2^64 buckets. An IPv4-mapped IPv6 address is an IPv4 client and
// stays whole. The hash of such keys is SipHash-2-4 under a per-process key.
#include <cstdint>

#include "relay/base/address.h"
#include "relay/base/siphash.h"

namespace tw {

/// Default of `ipv6_client_prefix`: one /64 is one client.
inline constexpr uint8_t kDefaultIpv6ClientPrefix = 64;

/// `ip` as per-client state keys it: IPv4 (and IPv4-mapped IPv6) unchanged,
/// other IPv6 with every bit after the first `v6Prefix` cleared (0-128).
IpAddress clientKey(const IpAddress& ip, uint8_t v6Prefix);
/// The same for the IP of a source address; the port is kept.
SocketAddress clientKey(const SocketAddress& source, uint8_t v6Prefix);

/// SipHash-2-4 of an address's family and bytes (and port), under `key`.
uint64_t keyedHash(const SipKey& key, const IpAddress& ip);
uint64_t keyedHash(const SipKey& key, const SocketAddress& source);

/// A keyed hasher for unordered containers of addresses.
struct KeyedAddressHash {
  SipKey key;
  size_t operator()(const IpAddress& ip) const { return keyedHash(key, ip); }
  size_t operator()(const SocketAddress& s) const { return keyedHash(key, s); }
};

}  // namespace tw
