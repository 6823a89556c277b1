#include "policy/config.h"

#include <sched.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <thread>

#include "policy/config_credentials.h"
#include "policy/config_quotas.h"
#include "policy/config_reader.h"
#include "policy/config_io.h"
#include "policy/config_transports.h"
#include "policy/config_fleet.h"
#include "policy/config_observability.h"
#include "policy/duration.h"
#include "policy/secrets_file.h"
#include "relay/base/crypto.h"
#include "relay/base/files.h"

namespace tw::policy {
namespace {

using namespace config_detail;

bool hasKey(const Item& map, std::string_view key) { return fieldItem(map, key).path != map.path; }

/// Protocol strings (realm, SOFTWARE) go on the wire and into MD5 key
/// derivation: printable ASCII only, so no SASLprep/normalisation questions.
bool isProtocolText(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c >= 0x20 && c < 0x7F && c != '"' && c != '\\'; });
}

/// A realm as written (top-level realm:, listeners[].realm, peers.realms
/// keys): it goes on the wire and into the MD5 key.
std::optional<std::string> realmText(Reader& r, const Item& item) {
  auto s = r.text(item);
  if (!s) return std::nullopt;
  if (s->empty() || s->size() > 127 || !isProtocolText(*s)) {
    r.error(item, "realm must be 1-127 printable ASCII characters without quotes or backslashes");
    return std::nullopt;
  }
  return s;
}

bool isStream(Transport t) { return t == Transport::Tcp || t == Transport::Tls; }

/// A field reader that converts with Reader::*Read and stores the result in
/// T::*Member, leaving the default in place when the value is bad.
template <auto Member, auto Read, class T>
void set(Reader& r, const Item& item, T& out) {
  if (auto v = (r.*Read)(item)) out.*Member = *v;
}

// ---------------------------------------------------------------- listeners

void readTransport(Reader& r, const Item& item, ListenerConfig& out) {
  auto s = r.text(item);
  if (!s) return;
  auto t = parseTransport(*s);
  if (!t) return r.error(item, "unknown transport " + shown(*s) + " (expected udp, tcp, tls or dtls)");
  out.transport = *t;
}

void readPemFile(Reader& r, const Item& item, std::string& out) {
  auto p = r.path(item);
  if (!p) return;
  std::error_code ec;
  if (r.checkFiles() && !std::filesystem::is_regular_file(*p, ec)) {
    return r.error(item, "file " + shown(*p) + " does not exist or is not a regular file");
  }
  out = *p;
}

constexpr std::array<Field<ListenerConfig>, 6> kListenerFields{{
    {"transport", readTransport},
    {"address", set<&ListenerConfig::address, &Reader::address>, true},
    {"port", set<&ListenerConfig::port, &Reader::port>},
    {"cert", [](Reader& r, const Item& i, ListenerConfig& o) { readPemFile(r, i, o.cert); }},
    {"key", [](Reader& r, const Item& i, ListenerConfig& o) { readPemFile(r, i, o.key); }},
    {"realm", [](Reader& r, const Item& i, ListenerConfig& o) { o.realm = realmText(r, i).value_or(""); }},
}};

void checkListenerTls(Reader& r, const Item& item, const ListenerConfig& l) {
  bool secure = l.transport == Transport::Tls || l.transport == Transport::Dtls;
  std::string name(toString(l.transport));
  if (secure && (!hasKey(item, "cert") || !hasKey(item, "key"))) {
    r.error(item, "a " + name + " listener needs both cert: and key: (PEM file paths)");
  }
  for (std::string_view k : {"cert", "key"}) {
    if (!secure && hasKey(item, k)) {
      r.error(fieldItem(item, k), std::string(k) + " only applies to tls and dtls listeners, not " + name);
    }
  }
}

std::optional<ListenerConfig> readListener(Reader& r, const Item& item) {
  size_t before = r.errorCount();
  ListenerConfig l;
  readFields(r, item, kListenerFields, l);
  if (!item.node.IsMap()) return std::nullopt;
  if (!hasKey(item, "port") && (l.transport == Transport::Tls || l.transport == Transport::Dtls)) {
    l.port = 5349;  // RFC 8656 §4: the default port for TURN over (D)TLS
  }
  checkListenerTls(r, item, l);
  if (r.errorCount() != before) return std::nullopt;
  return l;
}

void readListeners(Reader& r, const Item& seq, Config& cfg) {
  cfg.listeners.clear();
  std::vector<Item> where;
  r.forEach(seq, [&](const Item& item) {
    auto l = readListener(r, item);
    if (!l) return;
    for (size_t i = 0; i < cfg.listeners.size(); ++i) {
      const ListenerConfig& o = cfg.listeners[i];
      if (isStream(o.transport) == isStream(l->transport) && o.address == l->address && o.port == l->port) {
        return r.error(item, "same address, port and socket type as " + where[i].path);
      }
    }
    cfg.listeners.push_back(*l);
    where.push_back(item);
  });
  if (seq.node.IsNull() || (seq.node.IsSequence() && seq.node.size() == 0)) {
    r.error(seq, "at least one listener is required");
  }
}

// -------------------------------------------------------------------- relay

void readRelayAddresses(Reader& r, const Item& seq, RelayConfig& out) {
  out.addresses.clear();
  r.forEach(seq, [&](const Item& item) {
    auto a = r.address(item);
    if (!a) return;
    if (a->isUnspecified()) {
      return r.error(item, "must be a concrete address: clients are told the relayed address");
    }
    if (std::find(out.addresses.begin(), out.addresses.end(), *a) != out.addresses.end()) {
      return r.error(item, "duplicate relay address " + a->toString());
    }
    out.addresses.push_back(*a);
  });
  if (seq.node.IsNull() || (seq.node.IsSequence() && seq.node.size() == 0)) {
    r.error(seq, "at least one relay address is required");
  }
}

void readExternalAddress(Reader& r, const Item& item, RelayConfig& out) {
  if (item.node.IsNull()) return;
  auto a = r.address(item);
  if (a && a->isUnspecified()) return r.error(item, "must be a concrete address");
  if (a) out.externalAddress = *a;
}

void readPortRange(Reader& r, const Item& item, RelayConfig& out) {
  if (auto range = r.portRange(item)) std::tie(out.portMin, out.portMax) = *range;
}

void readTcpRelay(Reader& r, const Item& item, RelayConfig& out) {
  if (auto on = r.boolean(item)) out.tcp = *on;
}

constexpr std::array<Field<RelayConfig>, 4> kRelayFields{{
    {"addresses", readRelayAddresses},
    {"external_address", readExternalAddress},
    {"port_range", readPortRange},
    {"tcp", readTcpRelay},
}};

void readRelay(Reader& r, const Item& item, Config& cfg) {
  RelayConfig& relay = cfg.relay;
  readFields(r, item, kRelayFields, relay);
  if (!relay.externalAddress) return;
  auto sameFamily = [&](const IpAddress& a) { return a.family() == relay.externalAddress->family(); };
  if (!relay.addresses.empty() && std::none_of(relay.addresses.begin(), relay.addresses.end(), sameFamily)) {
    r.error(fieldItem(item, "external_address"), "no relay address of the same IP family to map it to");
  }
}

// --------------------------------------------------------------------- auth

void readUserName(Reader& r, const Item& item, StaticUser& out) {
  auto name = r.text(item);
  if (!name) return;
  bool printable = std::all_of(name->begin(), name->end(), [](char c) { return c > 0x20 && c < 0x7F; });
  if (name->empty() || name->size() > 512 || !printable || name->find(':') != std::string::npos) {
    return r.error(item,
                   "user name must be 1-512 printable ASCII characters without spaces or ':' "
                   "(a ':' would make it look like a REST API username)");
  }
  out.name = *name;
}

void readUserKey(Reader& r, const Item& item, StaticUser& out) {
  auto text = r.text(item);  // a password equivalent: never echoed
  if (!text) return;
  auto bytes = text->size() == 32 ? tw::hexDecode(*text) : std::nullopt;
  if (!bytes || bytes->size() != out.key.size()) {
    return r.error(item, "key must be 32 hex digits: MD5(name:realm:password)");
  }
  std::copy(bytes->begin(), bytes->end(), out.key.begin());
}

constexpr std::array<Field<StaticUser>, 2> kUserFields{{
    {"name", readUserName, true},
    {"key", readUserKey, true},
}};

void readUsers(Reader& r, const Item& seq, AuthConfig& out) {
  std::vector<std::string> where;
  r.forEach(seq, [&](const Item& item) {
    StaticUser u;
    size_t before = r.errorCount();
    readFields(r, item, kUserFields, u);
    if (r.errorCount() != before) return;
    for (size_t i = 0; i < out.users.size(); ++i) {
      if (out.users[i].name == u.name) {
        return r.error(fieldItem(item, "name"),
                       "duplicate user " + shown(u.name) + " (also " + where[i] + ")");
      }
    }
    out.users.push_back(u);
    where.push_back(item.path);
  });
}

void readSecretsFile(Reader& r, const Item& item, AuthConfig& out) {
  if (item.node.IsNull()) return;
  if (auto p = r.path(item)) out.secretsFile = *p;
}

void readMaxTtl(Reader& r, const Item& item, AuthConfig& out) {
  if (auto s = r.seconds(item, 1)) out.maxTtlSeconds = *s;
}

void readClockSkew(Reader& r, const Item& item, AuthConfig& out) {
  if (auto s = r.seconds(item, 0)) out.clockSkewSeconds = *s;
}

void readNonceLifetime(Reader& r, const Item& item, AuthConfig& out) {
  if (auto d = r.duration(item, std::chrono::seconds(1))) out.nonceLifetime = *d;
}

constexpr std::array<Field<AuthConfig>, 8> kAuthFields{{
    {"secrets", [](Reader& r, const Item& i, AuthConfig& o) { o.secrets = readSecretList(r, i); }},
    {"secrets_file", readSecretsFile},
    {"max_ttl", readMaxTtl},
    {"clock_skew", readClockSkew},
    {"nonce_lifetime", readNonceLifetime},
    {"users", readUsers},
    {"blocked_users", readBlockedUsers},
    {"rotation", readRotation},
}};

/// Loads an existing keyring file (loadConfig only); a missing one is left
/// for the server to generate on first start.
void loadKeyringFile(Reader& r, AuthConfig& auth) {
  struct stat st {};
  if (!r.checkFiles() || auth.secretsFile.empty()) return;
  if (::lstat(auth.secretsFile.c_str(), &st) != 0 && errno == ENOENT) return;
  auto loaded = loadSecretsFile(auth.secretsFile);
  if (!loaded) return r.append(std::move(loaded.error()));
  auth.secrets = std::move(loaded.value());
}

void readAuth(Reader& r, const Item& item, Config& cfg) {
  readFields(r, item, kAuthFields, cfg.auth);
  if (!item.node.IsMap()) return;
  bool inline_ = hasKey(item, "secrets");
  bool file = hasKey(item, "secrets_file") && !fieldItem(item, "secrets_file").node.IsNull();
  if (inline_ && file) {
    r.error(fieldItem(item, "secrets_file"), "set either auth.secrets or auth.secrets_file, not both");
  } else if (!inline_ && !file) {
    r.error(item, "no REST API secret: set auth.secrets or auth.secrets_file");
  }
  checkRotation(r, item, cfg.auth);
  loadKeyringFile(r, cfg.auth);
}

// -------------------------------------------------------------------- peers

struct PeerDraft {
  std::optional<IpRange> range;
  std::string text;
  std::optional<std::pair<uint16_t, uint16_t>> ports;
};

void readPeerRange(Reader& r, const Item& item, PeerDraft& out) {
  auto s = r.text(item);
  if (!s) return;
  auto range = IpRange::parse(*s);
  if (!range) return r.error(item, "bad address range " + shown(*s) + ": " + range.error());
  out.range = range.value();
  out.text = *s;
}

constexpr std::array<Field<PeerDraft>, 2> kPeerFields{{
    {"range", readPeerRange, true},
    {"ports", [](Reader& r, const Item& i, PeerDraft& o) { o.ports = r.portRange(i); }},
}};

void readPeerList(Reader& r, const Item& seq, std::vector<PeerRangeConfig>& out) {
  r.forEach(seq, [&](const Item& item) {
    PeerDraft d;
    size_t before = r.errorCount();
    if (item.node.IsMap()) {
      readFields(r, item, kPeerFields, d);
    } else if (item.node.IsScalar()) {
      readPeerRange(r, item, d);
    } else {
      r.error(item, "expected an address range or a map {range: ..., ports: LOW-HIGH}");
    }
    if (r.errorCount() == before && d.range) out.push_back(PeerRangeConfig{*d.range, d.text, d.ports});
  });
}

constexpr std::array<Field<RealmPeersConfig>, 2> kRealmPeerFields{{
    {"allowed", [](Reader& r, const Item& i, RealmPeersConfig& o) { readPeerList(r, i, o.allowed); }},
    {"denied", [](Reader& r, const Item& i, RealmPeersConfig& o) { readPeerList(r, i, o.denied); }},
}};

/// peers.realms: {REALM: {allowed: [...], denied: [...]}}; whether a listener
/// uses each REALM is checked once the whole file is read (checkPeerRealms).
void readPeerRealms(Reader& r, const Item& map, PeersConfig& out) {
  if (map.node.IsNull() || !r.expectMap(map)) return;
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    const YAML::Node key = it->first;
    auto name = realmText(r, Item{key, key.Mark(), map.path});
    if (!name) continue;
    const Item value = fieldItem(map, *name);
    auto same = [&](const RealmPeersConfig& o) { return o.realm == *name; };
    if (std::any_of(out.realms.begin(), out.realms.end(), same)) {
      r.errorAt(key.Mark(), value.path + ": duplicate realm (each realm may appear once)");
      continue;
    }
    RealmPeersConfig rp{*name, key.Mark().line, key.Mark().column, {}, {}};
    readFields(r, value, kRealmPeerFields, rp);
    out.realms.push_back(std::move(rp));
  }
}

/// A peers.realms key no listener (nor the top-level realm) serves would
/// never apply: almost certainly a typo, so it is an error.
void checkPeerRealms(Reader& r, const Config& cfg) {
  for (const RealmPeersConfig& rp : cfg.peers.realms) {
    bool used = rp.realm == cfg.realm;
    for (const ListenerConfig& l : cfg.listeners) used = used || effectiveRealm(cfg, l) == rp.realm;
    if (used) continue;
    YAML::Mark at;
    at.line = rp.line;
    at.column = rp.column;
    r.errorAt(at, "peers.realms: realm " + shown(rp.realm) +
                      " is not the realm of any listener nor the top-level realm");
  }
}

constexpr std::array<Field<PeersConfig>, 4> kPeersFields{{
    {"allowed", [](Reader& r, const Item& i, PeersConfig& o) { readPeerList(r, i, o.allowed); }},
    {"denied", [](Reader& r, const Item& i, PeersConfig& o) { readPeerList(r, i, o.denied); }},
    {"default_deny", set<&PeersConfig::defaultDeny, &Reader::boolean>},
    {"realms", readPeerRealms},
}};

// ------------------------------------------------------------------- limits

/// Allocation lifetimes travel in LIFETIME as whole seconds.
template <tw::Duration LimitsConfig::*Member>
void readLifetime(Reader& r, const Item& item, LimitsConfig& out) {
  if (auto s = r.seconds(item, 1)) out.*Member = std::chrono::seconds(*s);
}

void readChannelNumbers(Reader& r, const Item& item, LimitsConfig& out) {
  auto s = r.text(item);
  if (!s) return;
  if (*s == "rfc5766") {
    out.channelNumbers = ChannelNumbers::Rfc5766;
  } else if (*s == "rfc8656") {
    out.channelNumbers = ChannelNumbers::Rfc8656;
  } else {
    r.error(item, "unknown channel number range " + shown(*s) + " (expected rfc5766 or rfc8656)");
  }
}

template <size_t LimitsConfig::*Member, int64_t Max>
void readCount(Reader& r, const Item& item, LimitsConfig& out) {
  if (auto n = r.integer(item, 1, Max)) out.*Member = static_cast<size_t>(*n);
}

constexpr std::array<Field<LimitsConfig>, 6> kLimitsFields{{
    {"max_allocation_lifetime", readLifetime<&LimitsConfig::maxAllocationLifetime>},
    {"default_allocation_lifetime", readLifetime<&LimitsConfig::defaultAllocationLifetime>},
    {"channel_numbers", readChannelNumbers},
    {"permissions_per_request", readCount<&LimitsConfig::permissionsPerRequest, 1024>},
    {"permissions_per_allocation", readCount<&LimitsConfig::permissionsPerAllocation, 65535>},
    {"channels_per_allocation", readCount<&LimitsConfig::channelsPerAllocation, 0x4000>},
}};

/// Blames `preferred` if the operator wrote it, else `other`, else the map.
Item blame(const Item& map, std::string_view preferred, std::string_view other) {
  return fieldItem(map, hasKey(map, preferred) ? preferred : other);
}

void checkLimits(Reader& r, const Item& item, const LimitsConfig& l) {
  if (l.defaultAllocationLifetime > l.maxAllocationLifetime) {
    r.error(blame(item, "default_allocation_lifetime", "max_allocation_lifetime"),
            "default_allocation_lifetime (" + formatDuration(l.defaultAllocationLifetime) +
                ") exceeds max_allocation_lifetime (" + formatDuration(l.maxAllocationLifetime) + ")");
  }
}

/// The per-allocation caps against limits.permissions_per_request and the
/// channel number range. They may be written under quotas: or limits:, in
/// either order, so this runs once the whole file is read; the error names
/// the key where the operator wrote the value.
void checkPerAllocation(Reader& r, const Item& root, const Config& cfg) {
  const LimitsConfig& l = cfg.limits;
  const Item quotas = fieldItem(root, "quotas");
  const Item limits = fieldItem(root, "limits");
  const bool inQuotas = quotas.path != root.path && quotas.node.IsMap();
  const bool inLimits = limits.path != root.path && limits.node.IsMap();
  if (l.permissionsPerRequest > l.permissionsPerAllocation) {
    const std::string request = std::to_string(l.permissionsPerRequest);
    const std::string perAllocation = std::to_string(l.permissionsPerAllocation);
    if (inQuotas && hasKey(quotas, "permissions_per_allocation")) {
      r.error(fieldItem(quotas, "permissions_per_allocation"),
              "permissions_per_allocation (" + perAllocation +
                  ") is below limits.permissions_per_request (" + request + ")");
    } else {
      r.error(inLimits ? blame(limits, "permissions_per_request", "permissions_per_allocation") : root,
              "permissions_per_request (" + request + ") exceeds permissions_per_allocation (" +
                  perAllocation + ")");
    }
  }
  const size_t channels = size_t{l.channelMax()} - l.channelMin() + 1;
  if (l.channelsPerAllocation > channels) {
    const std::string text = "channels_per_allocation (" + std::to_string(l.channelsPerAllocation) +
                             ") exceeds the " + std::to_string(channels) + " channel numbers";
    if (inQuotas && hasKey(quotas, "channels_per_allocation")) {
      r.error(fieldItem(quotas, "channels_per_allocation"), text + " available");
    } else {
      r.error(inLimits ? blame(limits, "channels_per_allocation", "channel_numbers") : root,
              text + " of channel_numbers");
    }
  }
}

void readLimits(Reader& r, const Item& item, Config& cfg) {
  size_t before = r.errorCount();
  readFields(r, item, kLimitsFields, cfg.limits);
  if (r.errorCount() == before) checkLimits(r, item, cfg.limits);
}

// ------------------------------------------------------------- log, server

void readLogLevel(Reader& r, const Item& item, LogConfig& out) {
  auto s = r.text(item);
  if (!s) return;
  constexpr std::array<std::pair<std::string_view, tw::LogLevel>, 4> kLevels{
      {{"debug", tw::LogLevel::Debug},
       {"info", tw::LogLevel::Info},
       {"warn", tw::LogLevel::Warn},
       {"error", tw::LogLevel::Error}}};
  for (const auto& [name, level] : kLevels) {
    if (*s == name) return void(out.level = level);
  }
  r.error(item, "unknown log level " + shown(*s) + " (expected debug, info, warn or error)");
}

void readSoftware(Reader& r, const Item& item, ServerConfig& out) {
  if (item.node.IsNull()) return;
  auto s = r.text(item);
  if (!s) return;
  if (s->empty() || s->size() > 127 || !isProtocolText(*s)) {
    return r.error(item, "SOFTWARE text must be 1-127 printable ASCII characters without quotes");
  }
  out.software = *s;
}

constexpr std::array<Field<LogConfig>, 1> kLogFields{{{"level", readLogLevel}}};
constexpr std::array<Field<ServerConfig>, 1> kServerFields{{{"software", readSoftware}}};

// --------------------------------------------------------------------- root

void readRealm(Reader& r, const Item& item, Config& cfg) {
  if (auto s = realmText(r, item)) cfg.realm = *s;
}

void readWorkers(Reader& r, const Item& item, Config& cfg) {
  if (item.node.IsScalar() && item.node.Scalar() == "auto") {
    cfg.workers = 0;
    return;
  }
  if (item.node.IsScalar()) {
    int64_t n = 0;
    const std::string& t = item.node.Scalar();
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
    if (ec == std::errc{} && end == t.data() + t.size() && n >= 1 && n <= kMaxWorkers) {
      cfg.workers = static_cast<uint32_t>(n);
      return;
    }
  }
  r.error(item, "expected auto or a number of workers from 1 to " + std::to_string(kMaxWorkers));
}

constexpr std::array<Field<Config>, 20> kRootFields{{
    {"realm", readRealm, true},
    {"listeners", readListeners},
    {"relay", readRelay},
    {"auth", readAuth},
    {"peers", [](Reader& r, const Item& i, Config& c) { readFields(r, i, kPeersFields, c.peers); }},
    {"limits", readLimits},
    {"log", [](Reader& r, const Item& i, Config& c) { readFields(r, i, kLogFields, c.log); }},
    {"server", [](Reader& r, const Item& i, Config& c) { readFields(r, i, kServerFields, c.server); }},
    {"transports", readTransportsSection},
    {"io", readIoSection},
    {"quotas", readQuotas},
    {"rate_limits", readRateLimits},
    {"bans", readBans},
    {"metrics", readMetrics},
    {"events", readEvents},
    {"admin", readAdmin},
    {"anomalies", readAnomalies},
    {"fleet", readFleet},
    {"workers", readWorkers},
    {"credentials", readCredentials},
}};

void readRoot(Reader& r, const Item& root, Config& cfg) {
  if (root.node.IsNull()) return r.error(root, "the configuration is empty");
  readFields(r, root, kRootFields, cfg);
  if (root.node.IsMap()) checkPerAllocation(r, root, cfg);
  checkPeerRealms(r, cfg);
  if (root.node.IsMap() && !hasKey(root, "auth")) {
    r.error(root, "no REST API secret: set auth.secrets or auth.secrets_file");
  }
}

std::string baseDirOf(std::string_view fileName) {
  return std::filesystem::path(fileName).parent_path().string();
}

tw::Result<Config, std::vector<ConfigError>> parseWith(Reader& r, std::string_view text,
                                                       std::string_view fileName) {
  Config cfg;
  cfg.sourcePath = std::string(fileName);
  if (auto root = r.load(text)) {
    try {
      readRoot(r, rootItem(*root), cfg);
    } catch (const YAML::Exception& e) {  // defensive: the readers avoid throwing calls
      r.errorAt(e.mark, "unexpected YAML error: " + e.msg);
    }
  }
  if (r.failed()) return tw::err(r.takeErrors());
  return cfg;
}

}  // namespace

std::string ConfigError::format() const {
  if (line <= 0) return file + ": " + message;
  std::string pos = std::to_string(line) + (column > 0 ? ":" + std::to_string(column) : "");
  return file + ":" + pos + ": " + message;
}

uint32_t workerCount(const Config& config) {
  if (config.workers != 0) return config.workers;
  // The cores this process may run on (taskset, a systemd CPUAffinity=, a
  // container's cpuset), not every core of the machine: two workers pinned
  // to one core only add context switches.
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  const int usable = sched_getaffinity(0, sizeof allowed, &allowed) == 0 ? CPU_COUNT(&allowed) : 0;
  const unsigned cores = usable > 0 ? static_cast<unsigned>(usable) : std::thread::hardware_concurrency();
  return std::clamp<uint32_t>(cores == 0 ? 1 : cores, 1, kMaxWorkers);
}

const std::string& effectiveRealm(const Config& config, const ListenerConfig& listener) {
  return listener.realm.empty() ? config.realm : listener.realm;
}

std::string formatErrors(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const ConfigError& e : errors) out += e.format() + "\n";
  return out;
}

tw::Result<Config, std::vector<ConfigError>> parseConfig(std::string_view yamlText,
                                                         std::string_view fileName) {
  Reader r(std::string(fileName), baseDirOf(fileName));
  return parseWith(r, yamlText, fileName);
}

tw::Result<Config, std::vector<ConfigError>> loadConfig(const std::string& path) {
  auto text = readRegularFile(path, /*privateOnly=*/false);
  if (!text) {
    return tw::err(std::vector{ConfigError{path, 0, 0, "cannot read the configuration: " + text.error()}});
  }
  return loadConfigText(text.value(), path);
}

tw::Result<Config, std::vector<ConfigError>> loadConfigText(std::string_view yamlText,
                                                            std::string_view fileName) {
  Reader r(std::string(fileName), baseDirOf(fileName), /*checkFiles=*/true);
  return parseWith(r, yamlText, fileName);
}

}  // namespace tw::policy
