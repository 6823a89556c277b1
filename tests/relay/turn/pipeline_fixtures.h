#pragma once
// Shared fixtures of the handler tests (handle_*_test.cc): peers that the
// pipeline's policy allows and denies, and a client with a live allocation.
#include <catch2/catch.hpp>

#include "tests/support/turn_pipeline.h"

namespace tw::testing {

/// Allowed by the fixture's peers.allowed; the built-in list denies the rest of 203.0.113/24.
inline const SocketAddress kPeer = *SocketAddress::parse("203.0.113.100:5000");
inline const SocketAddress kPeer2 = *SocketAddress::parse("203.0.113.101:5000");
inline const SocketAddress kDenied = *SocketAddress::parse("10.0.0.1:80");
inline const SocketAddress kPeerV6 = *SocketAddress::parse("[2001:db8::1]:5000");
inline const std::string kAllowPeers = "peers:\n  allowed: [203.0.113.100/31]\n";

/// A client of `p` that holds an allocation (UDP unless `tcp`).
inline PipelineClient allocated(Pipeline& p, const std::string& user = "alice",
                                const std::string& from = "203.0.113.5:40000", bool tcp = false) {
  auto c = PipelineClient::authed(p, user, from, tcp ? Transport::Tcp : Transport::Udp);
  auto r = c.allocate({}, tcp ? 6 : 17);
  REQUIRE(r);
  REQUIRE(r->code == 0);
  return c;
}

}  // namespace tw::testing
