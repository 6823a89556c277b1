#include "relay/turn/handlers.h"

namespace tw::turn {

std::optional<std::string> peerDenied(const policy::PolicySnapshot& policy, const RelayAddresses& relays,
                                      const Allocation& a, const SocketAddress& peer) {
  // An allocation relaying to itself is a loop (threats.md).
  if (a.isOwnAddress(peer)) return std::string("loop:own-relayed-address");
  if (relays.isLiveRelay(peer)) return std::nullopt;  // relay-to-relay
  auto decision = policy.checkPeer(a.realm, peer);
  if (decision.allowed) return std::nullopt;
  return std::string(decision.rule);  // denied: dropped and reported, off the media path
}

// Reads and vets the XOR-PEER-ADDRESS list shared by CreatePermission and
// ChannelBind: present, well-formed, capped, same family as the relay, and
// allowed by the peer rules (a denial carries its PeerDenied event).
Outcome collectPeers(const RequestContext& req, const PeerGate& rules, std::vector<SocketAddress>& peers) {
  const size_t cap = req.policy.limits.permissionsPerRequest;
  peers.resize(cap);
  bool malformed = false;
  const size_t total = req.msg.xorPeerAddresses(peers, malformed);
  if (malformed) return Outcome::error(400, "bad_peer_address");
  if (total == 0) return Outcome::error(400, "missing_peer_address");
  if (total > cap) return Outcome::error(400, "too_many_peer_addresses");
  peers.resize(total);
  for (const auto& p : peers) {
    if (!req.alloc->servesFamily(p.ip.family())) return Outcome::error(443, "peer_family_mismatch");
    if (auto rule = rules.deny(req, *req.alloc, p))
      return Outcome::error(403, "peer_denied", std::move(*rule)).with(Event::Kind::PeerDenied, p);
  }
  return Outcome::success();
}

// RFC 8656 §10: all peers are installed, or none.
Outcome handleCreatePermission(const RequestContext& req, const PeerGate& rules) {
  std::vector<SocketAddress> peers;
  if (Outcome o = collectPeers(req, rules, peers); o.kind != Outcome::Kind::Success) return o;
  Allocation& a = *req.alloc;
  const auto& lim = req.policy.limits;
  a.sweep(req.now);
  size_t fresh = 0;
  for (const auto& p : peers) fresh += a.hasPermission(p.ip, req.now) ? 0 : 1;
  if (a.permissions.size() + fresh > lim.permissionsPerAllocation)
    return Outcome::error(508, "too_many_permissions");
  const Instant until = req.now + lim.permissionLifetime;
  for (const auto& p : peers) a.installPermission(p.ip, until, req.now, lim.permissionsPerAllocation, p.port);
  return Outcome::success();
}

}  // namespace tw::turn
