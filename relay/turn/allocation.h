#pragma once
// One TURN allocation (RFC 8656 §2.2, §9, §12): its 5-tuple, relayed
// address, owner credentials, permissions and channel bindings. Pure state:
// time comes in as arguments, sockets live in relay/io behind RelayHandle.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "relay/base/address.h"
#include "relay/base/clock.h"
#include "relay/base/token_bucket.h"
#include "relay/stun/message.h"
#include "relay/turn/io_port.h"
#include "relay/turn/outcome.h"

namespace tw::turn {

using Key = std::array<uint8_t, 16>;

/// RFC 8656 §9: permissions are per peer IP address, ports ignored.
struct Permission {
  IpAddress peer;
  Instant expires;
  /// Port of the latest XOR-PEER-ADDRESS that installed or refreshed it: a
  /// reload re-checks the peer rules (which may be per port) with it.
  uint16_t port = 0;
};

/// RFC 8656 §12: a binding is active until `expires`, then cools down for
/// five more minutes during which neither the number nor the peer may be
/// bound to anything else.
struct ChannelBinding {
  uint16_t number;
  SocketAddress peer;
  Instant expires;
};

constexpr Duration kChannelCooldown = std::chrono::minutes(5);

enum class BindResult { Ok, NumberTaken, PeerTaken, TooMany };

struct Allocation {
  uint64_t id = 0;
  FiveTuple tuple;
  std::string username;      // the full USERNAME that authenticated
  std::string user;          // the REST user part (for quotas and logs)
  std::string realm;         // the listener's realm it was made in (peers.realms)
  Key key{};                 // long-term key; refreshes must present the same
  SocketAddress relayed;     // where the relay socket is bound
  SocketAddress advertised;  // what XOR-RELAYED-ADDRESS says (external address)
  RelayHandle relay = kNoRelay;
  /// Dual-stack allocations (ADDITIONAL-ADDRESS-FAMILY, RFC 8656 §7.2): the
  /// IPv6 relayed address next to the IPv4 one; relay2 is kNoRelay otherwise.
  SocketAddress relayed2;
  SocketAddress advertised2;
  RelayHandle relay2 = kNoRelay;
  Instant created;
  Instant expires;
  std::vector<Permission> permissions;
  std::vector<ChannelBinding> channels;
  /// Allocate retransmissions get the same answer (RFC 8656 §7.2), encoded
  /// again by respond() from these attributes.
  stun::TransactionId allocateTxn{};
  ResponseAttrs allocateAnswer;
  uint64_t bytesToPeer = 0, bytesToClient = 0;
  /// Datagrams relayed each way (UDP relaying; a TCP relay counts bytes only).
  uint64_t packetsToPeer = 0, packetsToClient = 0;
  /// Usage records (docs/usage.md): peer IPs that got a new permission (an IP
  /// granted again after its permission expired counts again) and channels
  /// newly bound. Counted on the request path, never per packet.
  uint32_t peersGranted = 0, channelsBound = 0;
  /// quotas.bytes_per_user: bytes already charged to the user's volume (the
  /// worker's 1 s tick charges the growth since), and whether the user went
  /// over it (permissions, channels and TCP peers are then gone, and the
  /// next Refresh gets 486).
  uint64_t volumeCharged = 0;
  bool overVolume = false;
  /// Bandwidth reserved in the QuotaBook (quotas.max_bps at Allocate time).
  uint64_t reservedBps = 0;
  /// quotas.max_bps token buckets, one per direction (bytes).
  TokenBucket toPeerBudget, toClientBudget;
  /// REQUESTED-TRANSPORT TCP (RFC 6062): `relay` is a listening socket and
  /// peers are reached with Connect, not Send or ChannelData.
  bool tcp = false;
  /// CONNECTION-IDs of this allocation's peer connections (any state).
  std::vector<uint32_t> tcpConnections;
  /// quotas.connects_per_minute: the Connect fan-out budget.
  TokenBucket connectBudget;

  /// Whether peers of family `f` can be reached (443 otherwise).
  bool servesFamily(Family f) const {
    return relayed.ip.family() == f || (relay2 != kNoRelay && relayed2.ip.family() == f);
  }
  /// The relay socket that talks to peers of family `f`.
  RelayHandle relayFor(Family f) const {
    return relay2 != kNoRelay && relayed2.ip.family() == f ? relay2 : relay;
  }
  /// One of this allocation's own relayed addresses (a loop if used as a peer).
  bool isOwnAddress(const SocketAddress& p) const {
    return p == relayed || p == advertised || (relay2 != kNoRelay && (p == relayed2 || p == advertised2));
  }

  bool hasPermission(const IpAddress& peer, Instant now) const;
  /// Installs or refreshes; false when `cap` permissions are already live.
  bool installPermission(const IpAddress& peer, Instant expires, Instant now, size_t cap, uint16_t port = 0);
  const ChannelBinding* activeChannel(uint16_t number, Instant now) const;
  const ChannelBinding* activeChannelFor(const SocketAddress& peer, Instant now) const;
  BindResult bindChannel(uint16_t number, const SocketAddress& peer, Instant expires, Instant now,
                         size_t cap);
  /// Drops expired permissions and channels whose cooldown has ended.
  void sweep(Instant now);
};

}  // namespace tw::turn
