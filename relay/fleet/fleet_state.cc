#include "relay/fleet/fleet_state.h"

#include <algorithm>
#include <charconv>

#include "policy/secrets_file.h"
#include "relay/base/json.h"

namespace tw::fleet {

using namespace tw::policy;  // the keyring, quota and user-name rules fleet state obeys

namespace {

std::optional<int64_t> integer(std::string_view s) {
  int64_t v = 0;
  if (s.empty() || s.size() > 19) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

const std::string* field(const std::vector<std::string>& flat, std::string_view name) {
  for (size_t i = 0; i + 1 < flat.size(); i += 2)
    if (flat[i] == name) return &flat[i + 1];
  return nullptr;
}

constexpr size_t kMaxCountFields = 200000;  ///< per node record; more is not a real node

}  // namespace

FleetTiming fleetTiming(tw::Duration heartbeat) {
  using namespace std::chrono;
  FleetTiming t{};
  t.heartbeat = heartbeat;
  t.tick = std::clamp<tw::Duration>(heartbeat / 4, milliseconds(50), milliseconds(500));
  t.nodeTtl = heartbeat * 3 / 2;
  t.leaseTtl = heartbeat * 3;
  t.redisTimeout = std::max<tw::Duration>(heartbeat * 2, seconds(2));
  return t;
}

Result<std::optional<FleetKeyring>, std::string> parseFleetKeyring(const std::vector<std::string>& flat,
                                                                   int64_t nowUnix) {
  if (flat.empty()) return std::optional<FleetKeyring>{};
  FleetKeyring k;
  const std::string* version = field(flat, "version");
  const std::string* yaml = field(flat, "yaml");
  const std::string* rotated = field(flat, "rotated_at");
  auto v = version ? integer(*version) : std::nullopt;
  if (!v || *v < 1) return err(std::string("the fleet keyring has no valid version"));
  k.version = *v;
  if (!yaml) return err(std::string("the fleet keyring has no yaml field"));
  auto parsed = parseKeyringText(*yaml, "redis keyring");
  if (!parsed) return err(formatErrors(parsed.error()));
  k.secrets = std::move(parsed.value());
  if (rotated) {
    auto r = integer(*rotated);
    if (!r) return err(std::string("the fleet keyring has a bad rotated_at"));
    k.rotatedAt = *r;
  }
  if (withoutExpired(k.secrets, nowUnix).empty())
    return err(std::string("every secret of the fleet keyring has expired"));
  return std::optional<FleetKeyring>{std::move(k)};
}

std::optional<KeyringChange> planKeyringChange(const FleetKeyring& current,
                                               const std::optional<RotationConfig>& rotation,
                                               int64_t graceSeconds, int64_t nowUnix, Random& rng,
                                               bool force) {
  const bool due = force || (rotation && rotationDue(current.rotatedAt, nowUnix, rotation->interval));
  if (due) return KeyringChange{rotateKeyring(current.secrets, rng, nowUnix, graceSeconds), true};
  auto kept = withoutExpired(current.secrets, nowUnix);
  if (kept.size() == current.secrets.size() || kept.empty()) return std::nullopt;
  return KeyringChange{std::move(kept), false};
}

std::vector<std::string> encodeNodeRecord(const NodeInfo& n, const QuotaCounts& counts) {
  std::vector<std::string> out{"addresses",   n.addresses,
                               "version",     n.version,
                               "allocations", std::to_string(n.allocations),
                               "bps",         std::to_string(n.bps),
                               "started",     std::to_string(n.started),
                               "seen",        std::to_string(n.seen),
                               "ready",       n.ready ? "1" : "0",
                               "draining",    n.draining ? "1" : "0",
                               "lease",       n.leaseHolder ? "1" : "0"};
  for (const auto& [key, c] : counts.users) {
    // perUserKey is "USERNAME\0IP"; the field is "u:IP USERNAME" (an IP's
    // text has no space, a user name may).
    const size_t nul = key.rfind('\0');
    if (nul == std::string::npos) continue;
    out.insert(out.end(), {"u:" + key.substr(nul + 1) + " " + key.substr(0, nul), std::to_string(c)});
  }
  for (const auto& [ip, c] : counts.ips) out.insert(out.end(), {"i:" + ip.toString(), std::to_string(c)});
  return out;
}

namespace {

/// One "u:"/"i:" count field; false when malformed.
bool readCount(NodeRecord& r, const std::string& name, const std::string& value) {
  auto c = integer(value);
  if (!c || *c == 0 || r.counts.users.size() + r.counts.ips.size() >= kMaxCountFields) return false;
  if (name.rfind("u:", 0) == 0) {
    // "u:IP USERNAME": per_user counts one credential from one client IP.
    const size_t sp = name.find(' ', 2);
    if (sp == std::string::npos) return false;
    auto ip = IpAddress::parse(std::string_view(name).substr(2, sp - 2));
    const std::string user = name.substr(sp + 1);
    if (!ip || user.empty() || user.size() > kMaxUsernameBytes) return false;
    r.counts.users[perUserKey(user, *ip)] = size_t(*c);
    return true;
  }
  if (name.rfind("i:", 0) != 0) return false;
  auto ip = IpAddress::parse(std::string_view(name).substr(2));
  if (ip) r.counts.ips[*ip] = size_t(*c);
  return ip.has_value();
}

/// One registry field; false when unknown or malformed.
bool readInfo(NodeInfo& n, const std::string& name, const std::string& value) {
  if (name == "addresses") return n.addresses = value.substr(0, 1024), true;
  if (name == "version") return n.version = value.substr(0, 64), true;
  if (name == "ready" || name == "draining" || name == "lease") {
    (name == "ready" ? n.ready : name == "draining" ? n.draining : n.leaseHolder) = value == "1";
    return value == "0" || value == "1";
  }
  auto v = integer(value);
  if (!v) return false;
  if (name == "allocations")
    n.allocations = uint64_t(*v);
  else if (name == "bps")
    n.bps = uint64_t(*v);
  else if (name == "started")
    n.started = *v;
  else if (name == "seen")
    n.seen = *v;
  else
    return false;
  return true;
}

}  // namespace

NodeRecord parseNodeRecord(std::string id, const std::vector<std::string>& flat) {
  NodeRecord r;
  r.info.id = std::move(id);
  for (size_t i = 0; i + 1 < flat.size(); i += 2) {
    const std::string& name = flat[i];
    const bool ok = name.size() > 1 && name[1] == ':' ? readCount(r, name, flat[i + 1])
                                                      : readInfo(r.info, name, flat[i + 1]);
    r.badFields += ok ? 0 : 1;
  }
  return r;
}

QuotaCounts sumOtherNodes(const std::vector<NodeRecord>& nodes, std::string_view self) {
  QuotaCounts sum;
  for (const NodeRecord& n : nodes) {
    if (n.info.id == self) continue;
    for (const auto& [user, c] : n.counts.users) sum.users[user] += c;
    for (const auto& [ip, c] : n.counts.ips) sum.ips[ip] += c;
  }
  return sum;
}

std::string nodesJson(const NodeSelf& self, const std::vector<NodeInfo>& nodes) {
  std::string out;
  for (const NodeInfo& n : nodes) {
    out += std::string(out.empty() ? "" : ",\n ") + "{\"id\":" + jsonString(n.id) +
           ",\"addresses\":" + jsonString(n.addresses) + ",\"version\":" + jsonString(n.version) +
           ",\"allocations\":" + std::to_string(n.allocations) + ",\"bps\":" + std::to_string(n.bps) +
           ",\"started\":" + std::to_string(n.started) + ",\"seen\":" + std::to_string(n.seen) +
           ",\"ready\":" + (n.ready ? "true" : "false") + ",\"draining\":" + (n.draining ? "true" : "false") +
           ",\"lease\":" + (n.leaseHolder ? "true" : "false") + "}";
  }
  const std::string me = "{\"id\":" + jsonString(self.id) +
                         ",\"redis_up\":" + (self.redisUp ? "true" : "false") +
                         ",\"fleet_ready\":" + (self.fleetReady ? "true" : "false") +
                         ",\"keyring_version\":" + std::to_string(self.keyringVersion) + "}";
  return "{\"self\":" + me + ",\"nodes\":[" + out + "]}\n";
}

}  // namespace tw::fleet
