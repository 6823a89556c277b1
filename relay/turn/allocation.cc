#include "relay/turn/allocation.h"

#include <algorithm>

namespace tw::turn {

bool Allocation::hasPermission(const IpAddress& peer, Instant now) const {
  for (const auto& p : permissions)
    if (p.peer == peer && now < p.expires) return true;
  return false;
}

bool Allocation::installPermission(const IpAddress& peer, Instant expiresAt, Instant now, size_t cap,
                                   uint16_t port) {
  for (auto& p : permissions) {
    if (p.peer == peer) {
      p.expires = expiresAt;
      p.port = port;
      return true;
    }
  }
  sweep(now);
  if (permissions.size() >= cap) return false;
  permissions.push_back(Permission{peer, expiresAt, port});
  ++peersGranted;
  return true;
}

const ChannelBinding* Allocation::activeChannel(uint16_t number, Instant now) const {
  for (const auto& c : channels)
    if (c.number == number && now < c.expires) return &c;
  return nullptr;
}

const ChannelBinding* Allocation::activeChannelFor(const SocketAddress& peer, Instant now) const {
  for (const auto& c : channels)
    if (c.peer == peer && now < c.expires) return &c;
  return nullptr;
}

BindResult Allocation::bindChannel(uint16_t number, const SocketAddress& peer, Instant expiresAt, Instant now,
                                   size_t cap) {
  sweep(now);
  for (auto& c : channels) {
    // Entries here are active or cooling down; either way they pin the pair.
    if (c.number == number && c.peer == peer) {
      c.expires = expiresAt;
      return BindResult::Ok;
    }
    if (c.number == number) return BindResult::NumberTaken;
    if (c.peer == peer) return BindResult::PeerTaken;
  }
  if (channels.size() >= cap) return BindResult::TooMany;
  channels.push_back(ChannelBinding{number, peer, expiresAt});
  ++channelsBound;
  return BindResult::Ok;
}

void Allocation::sweep(Instant now) {
  std::erase_if(permissions, [&](const Permission& p) { return now >= p.expires; });
  std::erase_if(channels, [&](const ChannelBinding& c) { return now >= c.expires + kChannelCooldown; });
}

}  // namespace tw::turn
