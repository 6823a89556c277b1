#pragma once
// Which peers a client may reach through the relay. This is the SSRF wall of
// a TURN server (threats.md, "Relaying into private networks"): a relay that
// forwards to 127.0.0.1, 169.254.169.254 or its own admin port hands an
// anonymous client the server's internal network.
//
// Order of evaluation, for a peer ip:port:
//   1. candidates = the peer IP plus every IPv4 embedded in it (embedded_ipv4.h)
//   2. any candidate in 0.0.0.0/8, or the peer is ::   -> deny "unspecified"
//      (CVE-2020-26262: "any" reaches localhost on Linux; never overridable)
//   3. any candidate:port is one of the server's own
//      listener/admin/metrics addresses                -> deny "self:<addr>"
//      (CVE-2021-21382; never overridable)
//   4. per candidate: an `allowed` range (port in span) -> this candidate OK;
//      else a `denied` range (port in span)             -> deny with its name;
//      else defaultDeny and a built-in range            -> deny with its name;
//      else                                             -> OK.
//      The peer is allowed only if every candidate is OK, so allowing
//      127.0.0.1/32 does not open ::ffff:127.0.0.1 (the mapped range itself
//      stays denied) unless the operator also allows the IPv6 form.
//   With a realm layer (peers.realms, docs/policy.md), step 4 first asks the
//   layer, per candidate: its `denied` (port in span) -> deny; else its
//   `allowed` -> this candidate OK; else the global rules above. Steps 2-3
//   (and the relay's loop check) stay in front: no realm can open them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/ip_range.h"
#include "relay/base/address.h"

namespace tw::policy {

/// A range with the name reported when it decides. Names form a bounded set
/// (one per configured range), so they are safe as metrics labels.
struct NamedRange {
  IpRange range;
  std::string name;
  /// Inclusive port span the range applies to; nullopt = every port. On an
  /// allowed range it limits what is opened; on a denied range it limits
  /// what is closed.
  std::optional<std::pair<uint16_t, uint16_t>> ports;
};

/// Realm-scoped rules consulted before the global ones (peers.realms.REALM).
/// Denied comes first within a layer: a realm narrows before it opens.
struct PeerLayer {
  std::vector<NamedRange> allowed;
  std::vector<NamedRange> denied;
};

/// The verdict and the rule that produced it: a built-in or configured range
/// name, "self:<ip:port>", "unspecified", or, when allowed, the name of the
/// first allowed range that matched (or "allowed" if none was needed).
/// `rule` views a name in the rules (or the layer) that decided, or a
/// literal: valid while they live (a policy snapshot is held for the whole
/// request). No copy: every Send indication is checked, and an allowed
/// peer must not cost a heap allocation per packet.
struct PeerDecision {
  bool allowed = false;
  std::string_view rule;
};

/// Immutable once built, so one instance can be shared by every worker of a
/// policy snapshot without locks.
class PeerRules {
 public:
  /// selfAddresses: the server's own listener/metrics/admin addresses. One
  /// with an unspecified IP (a wildcard bind) matches its port on every
  /// address; a wildcard [::] matches IPv4 peers too, because a dual-stack
  /// socket bound to [::] also receives IPv4 traffic.
  PeerRules(std::vector<NamedRange> allowed, std::vector<NamedRange> denied, bool defaultDeny,
            std::vector<SocketAddress> selfAddresses);

  /// `layer`: the rules of the allocation's realm, or nullptr for none.
  PeerDecision check(const SocketAddress& peer, const PeerLayer* layer = nullptr) const;

  /// The special-purpose ranges denied when defaultDeny is set (threats.md
  /// "Default deny list", plus SIIT ::ffff:0:0:0/96). More specific entries
  /// come first so that, e.g., ::1 reports "builtin:loopback-v6" rather than
  /// "builtin:ipv4-compatible".
  static const std::vector<NamedRange>& builtinDenyList();

  const std::vector<NamedRange>& allowed() const { return allowed_; }
  const std::vector<NamedRange>& denied() const { return denied_; }
  bool defaultDeny() const { return defaultDeny_; }

 private:
  /// A self address, or an IPv4 embedded in one, with the name to report.
  struct SelfEntry {
    IpAddress ip;
    uint16_t port;
    bool anyAddress;  ///< wildcard bind: matches `port` on every address
    std::string name;
  };

  const SelfEntry* matchSelf(const IpAddress& candidate, uint16_t port) const;
  /// nullptr if the candidate is OK, else the range that denies it.
  const NamedRange* denyingRange(const IpAddress& candidate, uint16_t port, const NamedRange*& allowedBy,
                                 const PeerLayer* layer) const;

  std::vector<NamedRange> allowed_;
  std::vector<NamedRange> denied_;
  bool defaultDeny_;
  std::vector<SelfEntry> self_;
};

/// The self addresses as seen from outside: every port of `self` also on each
/// of `external` (relay.external_address, the public address of a 1:1 NAT that
/// is not on any interface), so a client cannot reach the server's own
/// listener/metrics/admin/credentials ports through its public address
/// wherever the provider's edge loops it back. A port on a wildcard bind is
/// added too: the wildcard matches the public address only if it is local.
/// Entries already present are not repeated.
std::vector<SocketAddress> withExternalSelf(std::vector<SocketAddress> self,
                                            const std::vector<IpAddress>& external);

}  // namespace tw::policy
