#include "policy/peer_rules.h"

#include <array>

#include "policy/embedded_ipv4.h"

namespace tw::policy {
namespace {

/// The peer IP followed by every IPv4 embedded in it; fixed size, no heap.
class Candidates {
 public:
  explicit Candidates(const IpAddress& peer) {
    items_[count_++] = peer;
    for (const IpAddress& v4 : embeddedIpv4All(peer)) items_[count_++] = v4;
  }
  const IpAddress* begin() const { return items_.data(); }
  const IpAddress* end() const { return items_.data() + count_; }

 private:
  std::array<IpAddress, 1 + EmbeddedIpv4List::kCapacity> items_{};
  size_t count_ = 0;
};

bool portInSpan(const NamedRange& r, uint16_t port) {
  return !r.ports || (r.ports->first <= port && port <= r.ports->second);
}

const NamedRange* findRange(const std::vector<NamedRange>& list, const IpAddress& a, uint16_t port) {
  for (const NamedRange& r : list)
    if (r.range.contains(a) && portInSpan(r, port)) return &r;
  return nullptr;
}

/// 0.0.0.0/8 and :: reach the local host on Linux (CVE-2020-26262).
bool isUnspecifiedCandidate(const IpAddress& a) {
  return a.isV4() ? (a.v4Value() >> 24) == 0 : a.isUnspecified();
}

NamedRange builtin(const char* cidr, const char* name) {
  // The literals below are known-good; a typo would surface as an empty
  // name in the builtin-list test rather than a crash.
  auto r = IpRange::parse(cidr);
  if (!r) return NamedRange{IpRange::single(IpAddress{}), "", std::nullopt};
  return NamedRange{r.value(), name, std::nullopt};
}

std::vector<NamedRange> makeBuiltinDenyList() {
  static constexpr std::pair<const char*, const char*> kEntries[] = {
      {"0.0.0.0/8", "builtin:this-network-v4"},
      {"10.0.0.0/8", "builtin:private-10"},
      {"100.64.0.0/10", "builtin:cgnat"},
      {"127.0.0.0/8", "builtin:loopback-v4"},
      {"169.254.0.0/16", "builtin:link-local-v4"},
      {"172.16.0.0/12", "builtin:private-172"},
      {"192.0.0.0/24", "builtin:ietf-protocol-v4"},
      {"192.0.2.0/24", "builtin:test-net-1"},
      {"192.88.99.0/24", "builtin:6to4-relay-anycast"},
      {"192.168.0.0/16", "builtin:private-192"},
      {"198.18.0.0/15", "builtin:benchmarking-v4"},
      {"198.51.100.0/24", "builtin:test-net-2"},
      {"203.0.113.0/24", "builtin:test-net-3"},
      {"224.0.0.0/4", "builtin:multicast-v4"},
      {"240.0.0.0/4", "builtin:reserved-v4"},
      {"::/128", "builtin:unspecified-v6"},
      {"::1/128", "builtin:loopback-v6"},
      {"::ffff:0:0/96", "builtin:ipv4-mapped"},
      {"::/96", "builtin:ipv4-compatible"},
      {"::ffff:0:0:0/96", "builtin:siit"},
      {"64:ff9b::/96", "builtin:nat64"},
      {"64:ff9b:1::/48", "builtin:nat64-local"},
      {"100::/64", "builtin:discard-v6"},
      {"2001::/32", "builtin:teredo"},
      {"2001:2::/48", "builtin:benchmarking-v6"},
      {"2001:db8::/32", "builtin:documentation-v6"},
      {"2002::/16", "builtin:6to4"},
      {"fc00::/7", "builtin:unique-local-v6"},
      {"fe80::/10", "builtin:link-local-v6"},
      {"fec0::/10", "builtin:site-local-v6"},
      {"ff00::/8", "builtin:multicast-v6"},
  };
  std::vector<NamedRange> out;
  for (const auto& [cidr, name] : kEntries) out.push_back(builtin(cidr, name));
  return out;
}

}  // namespace

PeerRules::PeerRules(std::vector<NamedRange> allowed, std::vector<NamedRange> denied, bool defaultDeny,
                     std::vector<SocketAddress> selfAddresses)
    : allowed_(std::move(allowed)), denied_(std::move(denied)), defaultDeny_(defaultDeny) {
  // Each self address is stored with its embedded IPv4s, so that a self
  // address given in IPv6 form still matches an IPv4 peer and vice versa.
  for (const SocketAddress& self : selfAddresses) {
    const std::string name = "self:" + self.toString();
    for (const IpAddress& ip : Candidates(self.ip))
      self_.push_back(SelfEntry{ip, self.port, ip.isUnspecified(), name});
  }
}

const std::vector<NamedRange>& PeerRules::builtinDenyList() {
  static const std::vector<NamedRange> kList = makeBuiltinDenyList();  // immutable
  return kList;
}

const PeerRules::SelfEntry* PeerRules::matchSelf(const IpAddress& candidate, uint16_t port) const {
  for (const SelfEntry& s : self_) {
    if (s.port != port) continue;
    if (s.ip == candidate) return &s;
    // [::] (dual-stack) covers both families; 0.0.0.0 only IPv4.
    if (s.anyAddress && (s.ip.isV6() || candidate.isV4())) return &s;
  }
  return nullptr;
}

const NamedRange* PeerRules::denyingRange(const IpAddress& candidate, uint16_t port,
                                          const NamedRange*& allowedBy, const PeerLayer* layer) const {
  if (layer) {
    if (const NamedRange* d = findRange(layer->denied, candidate, port)) return d;
    if (const NamedRange* a = findRange(layer->allowed, candidate, port)) {
      if (!allowedBy) allowedBy = a;
      return nullptr;
    }
  }
  if (const NamedRange* a = findRange(allowed_, candidate, port)) {
    if (!allowedBy) allowedBy = a;
    return nullptr;
  }
  if (const NamedRange* d = findRange(denied_, candidate, port)) return d;
  if (defaultDeny_) return findRange(builtinDenyList(), candidate, port);
  return nullptr;
}

PeerDecision PeerRules::check(const SocketAddress& peer, const PeerLayer* layer) const {
  const Candidates candidates(peer.ip);
  if (peer.ip.isUnspecified()) return {false, "unspecified"};
  for (const IpAddress& c : candidates)
    if (isUnspecifiedCandidate(c)) return {false, "unspecified"};
  for (const IpAddress& c : candidates)
    if (const SelfEntry* s = matchSelf(c, peer.port)) return {false, s->name};
  const NamedRange* allowedBy = nullptr;
  for (const IpAddress& c : candidates)
    if (const NamedRange* d = denyingRange(c, peer.port, allowedBy, layer)) return {false, d->name};
  return {true, allowedBy ? std::string_view(allowedBy->name) : std::string_view("allowed")};
}

std::vector<SocketAddress> withExternalSelf(std::vector<SocketAddress> self,
                                            const std::vector<IpAddress>& external) {
  const size_t configured = self.size();
  for (const IpAddress& ext : external) {
    for (size_t i = 0; i < configured; ++i) {
      const SocketAddress outside{ext, self[i].port};
      bool present = false;
      for (const SocketAddress& s : self) present = present || s == outside;
      if (!present) self.push_back(outside);
    }
  }
  return self;
}

}  // namespace tw::policy
