#include "relay/turn/turn_server.h"

namespace tw::turn {

// Reads and vets the XOR-PEER-ADDRESS list shared by CreatePermission and
// ChannelBind: present, well-formed, capped, same family as the relay, and
// allowed by the peer rules.
Outcome TurnServer::collectPeers(const Request& req, std::vector<SocketAddress>& peers) const {
  const size_t cap = policy_->limits.permissionsPerRequest;
  peers.resize(cap);
  bool malformed = false;
  const size_t total = req.msg.xorPeerAddresses(peers, malformed);
  if (malformed) return Outcome::error(400, "bad_peer_address");
  if (total == 0) return Outcome::error(400, "missing_peer_address");
  if (total > cap) return Outcome::error(400, "too_many_peer_addresses");
  peers.resize(total);
  for (const auto& p : peers) {
    if (!req.alloc->servesFamily(p.ip.family()))
      return Outcome::error(443, "peer_family_mismatch");
    if (auto rule = peerDenied(*req.alloc, p)) {
      deps_.events.onPeerDenied(p, *rule, req.tuple, req.alloc->user);
      return Outcome::error(403, "peer_denied", *rule);
    }
  }
  return Outcome::success();
}

// RFC 8656 §10: all peers are installed, or none.
Outcome TurnServer::handleCreatePermission(Request& req) {
  std::vector<SocketAddress> peers;
  if (Outcome o = collectPeers(req, peers); o.kind != Outcome::Kind::Success) return o;
  Allocation& a = *req.alloc;
  const auto& lim = policy_->limits;
  a.sweep(req.now);
  size_t fresh = 0;
  for (const auto& p : peers) fresh += a.hasPermission(p.ip, req.now) ? 0 : 1;
  if (a.permissions.size() + fresh > lim.permissionsPerAllocation)
    return Outcome::error(508, "too_many_permissions");
  const Instant until = req.now + lim.permissionLifetime;
  for (const auto& p : peers)
    a.installPermission(p.ip, until, req.now, lim.permissionsPerAllocation, p.port);
  return Outcome::success();
}

}  // namespace tw::turn
