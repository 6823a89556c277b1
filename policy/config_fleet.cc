// fleet: (docs/config.md, docs/fleet.md): where Redis is, who this node is,
// and the heartbeat. Checked as strictly as the rest of the file.
#include "policy/config_fleet.h"

#include "policy/duration.h"
#include "relay/base/files.h"

namespace tw::policy {

std::optional<std::string> checkNodeId(std::string_view id) {
  if (id.empty() || id.size() > 64) return std::string("a node id must be 1-64 characters");
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return std::string("a node id may only hold A-Z a-z 0-9 . _ -");
  }
  return std::nullopt;
}

std::string autoNodeId(std::string_view hostName) {
  std::string id;
  for (char c : hostName.substr(0, 64)) id += checkNodeId(std::string_view(&c, 1)) ? '-' : c;
  return id.empty() ? "node" : id;
}

tw::Result<std::string, std::string> readFleetPassword(const std::string& path) {
  auto text = readRegularFile(path, /*privateOnly=*/true);
  if (!text) return tw::err(path + ": " + text.error());
  std::string pw = *text;
  const auto first = pw.find_first_not_of(" \t\r\n");
  const auto last = pw.find_last_not_of(" \t\r\n");
  pw = first == std::string::npos ? "" : pw.substr(first, last - first + 1);
  if (pw.empty() || pw.size() > 512) return tw::err(path + ": the password must be 1-512 bytes");
  return pw;
}

namespace config_detail {
namespace {

bool validHostName(std::string_view h) {
  if (h.empty() || h.size() > 253 || h.front() == '-' || h.front() == '.') return false;
  for (char c : h) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

/// "127.0.0.1:6379", "[::1]:6379" or "redis.default.svc:6379".
void readAddress(Reader& r, const Item& item, FleetRedisConfig& out) {
  auto s = r.text(item);
  if (!s) return;
  if (auto addr = SocketAddress::parse(*s); addr && addr->port != 0) {
    out.host = addr->ip.toString();
    out.port = addr->port;
    return;
  }
  const auto colon = s->rfind(':');
  const std::string host = colon == std::string::npos ? "" : s->substr(0, colon);
  int64_t port = 0;
  const std::string digits = colon == std::string::npos ? "" : s->substr(colon + 1);
  for (char c : digits) port = (c >= '0' && c <= '9' && port < 70000) ? port * 10 + (c - '0') : 70000;
  if (!validHostName(host) || digits.empty() || port < 1 || port > 65535)
    return r.error(
        item, "expected HOST:PORT for Redis, e.g. 127.0.0.1:6379 or redis.internal:6379, got " + shown(*s));
  out.host = host;
  out.port = static_cast<uint16_t>(port);
}

void readPasswordFile(Reader& r, const Item& item, FleetRedisConfig& out) {
  if (item.node.IsNull()) return;
  auto p = r.path(item);
  if (!p) return;
  out.passwordFile = *p;
  if (!r.checkFiles()) return;
  if (auto text = readRegularFile(*p, /*privateOnly=*/true); !text)
    r.error(item, shown(*p) + ": " + text.error());  // the key is in the error's prefix
}

constexpr std::array<Field<FleetRedisConfig>, 3> kRedisFields{{
    {"address", readAddress, true},
    {"password_file", readPasswordFile},
    {"db",
     [](Reader& r, const Item& i, FleetRedisConfig& o) {
       if (auto n = r.integer(i, 0, 255)) o.db = int(*n);
     }},
}};

void readNodeId(Reader& r, const Item& item, FleetConfig& out) {
  auto s = r.text(item);
  if (!s || *s == "auto") return;
  if (auto why = checkNodeId(*s)) return r.error(item, *why + ", or auto; got " + shown(*s));
  out.nodeId = *s;
}

void readHeartbeat(Reader& r, const Item& item, FleetConfig& out) {
  auto d = r.duration(item, std::chrono::milliseconds(200));
  if (!d) return;
  if (*d > std::chrono::seconds(60)) return r.error(item, "heartbeat must be at most 60s");
  out.heartbeat = *d;
}

constexpr std::array<Field<FleetConfig>, 3> kFleetFields{{
    {"redis", [](Reader& r, const Item& i, FleetConfig& o) { readFields(r, i, kRedisFields, o.redis); },
     true},
    {"node_id", readNodeId},
    {"heartbeat", readHeartbeat},
}};

}  // namespace

void readFleet(Reader& r, const Item& item, Config& cfg) {
  if (item.node.IsNull()) return;  // "fleet:" with nothing: alone, as without it
  FleetConfig fleet;
  const size_t before = r.errorCount();
  readFields(r, item, kFleetFields, fleet);
  if (r.errorCount() == before && item.node.IsMap()) cfg.fleet = fleet;
}

}  // namespace config_detail
}  // namespace tw::policy
