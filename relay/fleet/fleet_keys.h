#pragma once
// Fleet mode (docs/fleet.md): the names of the Redis keys one realm's fleet
// uses, and the messages its nodes publish to each other. Pure: no Redis.
//
// Every name and message built here travels to Redis as one argv element of
// a hiredis command (never formatted into a command string), so user names,
// realms and addresses cannot inject commands (coturn GHSA-4g7c-p5wg-j4hp).
// Messages read back are untrusted and parsed strictly.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "relay/base/address.h"

namespace tw::fleet {

class FleetKeys {
 public:
  explicit FleetKeys(std::string_view realm) : prefix_("turnwarden:" + std::string(realm) + ":") {}

  /// Hash {yaml, version, rotated_at}: the keyring in the secrets file format.
  std::string keyring() const { return prefix_ + "keyring"; }
  /// SET NX PX lease: who rotates.
  std::string lease() const { return prefix_ + "rotation-lease"; }
  /// The pub/sub channel of every node of the realm.
  std::string channel() const { return prefix_ + "events"; }
  /// One banned source address, IP and port (a string with a TTL): bans are
  /// per source address so one guesser behind a carrier-grade NAT does not
  /// lock out the users sharing its IP (docs/policy.md).
  std::string ban(const SocketAddress& source) const { return prefix_ + "ban:" + source.toString(); }
  /// SCAN MATCH pattern of every ban key (glob characters of the realm escaped).
  std::string banPattern() const;
  /// SCAN MATCH pattern of the ban keys of `ip`, any port.
  std::string banPattern(const IpAddress& ip) const;
  /// Length of the ban key prefix, to cut the address out of a ban key.
  size_t banPrefixSize() const { return prefix_.size() + 4; }
  /// Hash of one node: registry fields and its allocation counts, with a TTL.
  std::string node(std::string_view id) const { return prefix_ + "node:" + std::string(id); }
  /// Set of node ids that have announced themselves (some may have lapsed).
  std::string nodes() const { return prefix_ + "nodes"; }
  /// Hash user -> bytes of one quotas.bytes_per_user window (its length in
  /// seconds and its index since the epoch), with a TTL of two windows.
  std::string volume(int64_t windowSeconds, int64_t window) const {
    return prefix_ + "volume:" + std::to_string(windowSeconds) + ":" + std::to_string(window);
  }
  /// Stream of usage records (XADD MAXLEN ~, docs/usage.md "Fleet").
  std::string usage() const { return prefix_ + "usage"; }
  const std::string& prefix() const { return prefix_; }

 private:
  std::string prefix_;
};

/// `text` with the glob specials of Redis MATCH (* ? [ ] \) escaped.
std::string escapeGlob(std::string_view text);

/// What one node tells the others on the realm's channel.
enum class FleetOp { Keyring, Ban, Unban, EndUser, Reload, Drain };
std::string_view toString(FleetOp op);

struct FleetMessage {
  FleetOp op = FleetOp::Reload;
  std::string origin;                   ///< node id of the sender
  std::optional<SocketAddress> source;  ///< Ban: the banned IP and port
  std::optional<IpAddress> ip;          ///< Unban: every port of this IP
  int64_t ttlMs = 0;                    ///< Ban: how long it lasts from now
  int64_t version = 0;                  ///< Keyring: the version now in Redis
  std::string user;                     ///< EndUser (may hold spaces; never empty)
};

/// "OP ORIGIN [ARGS]": "keyring N1 7", "ban N1 192.0.2.1:5000 600000",
/// "unban N1 192.0.2.1", "end_user N1 alice smith", "reload N1", "drain N1".
std::string formatFleetMessage(const FleetMessage& m);

/// Strict: unknown op, bad origin id, bad address, ttl outside 1 ms-1 week,
/// version < 1, empty or > 512-byte user, or trailing junk: nullopt.
std::optional<FleetMessage> parseFleetMessage(std::string_view text);

}  // namespace tw::fleet
