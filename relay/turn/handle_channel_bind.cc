#include "relay/turn/handlers.h"

namespace tw::turn {

// RFC 8656 §11.2.
Outcome handleChannelBind(const RequestContext& req, const PeerGate& rules) {
  // RFC 6062: peers of a TCP allocation are reached with Connect.
  if (req.alloc->tcp) return Outcome::error(400, "channel_bind_on_tcp_allocation");
  const auto& lim = req.policy.limits;
  auto number = req.msg.channelNumber();
  if (!number) return Outcome::error(400, "missing_channel_number");
  if (*number < lim.channelMin || *number > lim.channelMax) return Outcome::error(400, "bad_channel_number");
  std::vector<SocketAddress> peers;
  if (Outcome o = collectPeers(req, rules, peers); o.kind != Outcome::Kind::Success) return o;
  if (peers.size() != 1) return Outcome::error(400, "one_peer_per_channel");
  Allocation& a = *req.alloc;
  switch (
      a.bindChannel(*number, peers[0], req.now + lim.channelLifetime, req.now, lim.channelsPerAllocation)) {
    case BindResult::Ok:
      break;
    case BindResult::NumberTaken:
      return Outcome::error(400, "channel_bound_to_other_peer");
    case BindResult::PeerTaken:
      return Outcome::error(400, "peer_bound_to_other_channel");
    case BindResult::TooMany:
      return Outcome::error(508, "too_many_channels");
  }
  // The binding also installs or refreshes the permission for its peer.
  if (!a.installPermission(peers[0].ip, req.now + lim.permissionLifetime, req.now,
                           lim.permissionsPerAllocation, peers[0].port))
    return Outcome::error(508, "too_many_permissions");
  return Outcome::success();
}

}  // namespace tw::turn
