#pragma once
// trusted_proxies: the addresses whose word on a client's address the relay
// takes -- a PROXY protocol header on a TURN TCP/TLS listener that opted in
// (listeners[].proxy_protocol), Forwarded / X-Forwarded-For on the
// credentials endpoint. Everyone else is the address its TCP connection
// comes from. Part of the policy snapshot: a reload swaps it.
#include <vector>

#include "policy/ip_range.h"

namespace tw::policy {

struct TrustedProxies {
  std::vector<IpRange> ranges;

  bool empty() const { return ranges.empty(); }
  bool contains(const IpAddress& a) const {
    for (const auto& r : ranges)
      if (r.contains(a)) return true;
    return false;
  }
  friend bool operator==(const TrustedProxies&, const TrustedProxies&) = default;
};

}  // namespace tw::policy
