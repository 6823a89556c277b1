#pragma once
// Who is asking, behind reverse proxies: the address a per-client limit (the
// credentials endpoint's per-IP bucket) keys on. Pure: no sockets.
//
// The TCP peer is the client unless it is in trusted_proxies. From a trusted
// peer, X-Forwarded-For ("client, proxy1, proxy2") or Forwarded (RFC 7239,
// its for= parameters) is read right to left: each address a trusted proxy
// appended is skipped, and the first one not trusted is the client (the
// right-most untrusted address: what a client writes itself sits to the left
// of it and is never reached). The rest of the rules:
//   - an entry that is not an address (unknown, _hidden, garbage) stops the
//     walk: the trusted hop that appended it is the client;
//   - every entry trusted: the left-most one;
//   - both headers present and naming different clients: the TCP peer (one
//     of them came from the client, and nothing says which);
//   - at most 64 entries are read from the right.
#include <string_view>

#include "policy/trusted_proxies.h"
#include "relay/base/address.h"

namespace tw::http {

/// `forwarded`, `xForwardedFor`: every occurrence of the header, joined with
/// ", " in the order received (empty when absent).
IpAddress clientAddress(const IpAddress& peer, std::string_view forwarded, std::string_view xForwardedFor,
                        const policy::TrustedProxies& trusted);

/// One node of either header: "192.0.2.1", "192.0.2.1:80", "2001:db8::1",
/// "[2001:db8::1]:80", optionally in double quotes. nullopt for anything else.
std::optional<IpAddress> parseForwardedNode(std::string_view node);

}  // namespace tw::http
