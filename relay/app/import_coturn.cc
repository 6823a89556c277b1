#include "relay/app/import_coturn.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <iomanip>
#include <optional>
#include <sstream>

#include "policy/config.h"
#include "policy/ip_range.h"
#include "relay/base/address.h"
#include "relay/base/crypto.h"

namespace tw::app {

namespace {

struct Line {
  int number;
  std::string key;
  std::string value;
};

struct User {
  std::string name;
  std::string key;  // 32 hex digits
};

/// What the coturn file said, collected before anything is emitted
/// (realm= may come after user= lines, whose keys depend on it).
struct Draft {
  std::vector<std::string> listenIps, relayIps, allowed, denied;
  std::optional<std::string> external, realm, cert, pkey;
  std::optional<uint16_t> port, tlsPort, minPort, maxPort;
  std::optional<int64_t> userQuota, totalQuota, maxBps, bpsCapacity, staleNonce;
  std::vector<Line> secrets, users;
  int transportLine = 0;  // the last no-udp/no-tcp/no-tls/no-dtls
  bool noTcp = false, noUdp = false, noTls = false, noDtls = false, allowLoopback = false;
  bool noTcpRelay = false;
};

class Importer {
 public:
  Importer(std::string_view file, std::string secretsPath)
      : file_(file), secretsPath_(std::move(secretsPath)) {}

  /// line 0: about the file as a whole (a conflict between options).
  void warn(int line, const std::string& what) {
    out_.warnings.push_back(file_ + (line > 0 ? ":" + std::to_string(line) : "") + ": warning: " + what);
  }

  std::optional<int64_t> number(const Line& l, int64_t min, int64_t max) {
    int64_t v = 0;
    const auto* end = l.value.data() + l.value.size();
    auto [p, ec] = std::from_chars(l.value.data(), end, v);
    if (ec != std::errc() || p != end || v < min || v > max) {
      warn(l.number, l.key + "=" + l.value + ": expected an integer " + std::to_string(min) + "-" +
                         std::to_string(max) + "; ignored");
      return std::nullopt;
    }
    return v;
  }

  std::optional<std::string> address(const Line& l, std::string_view text, bool concrete) {
    auto ip = IpAddress::parse(text);
    if (!ip || (concrete && ip->isUnspecified())) {
      warn(l.number, l.key + "=" + l.value + ": not a usable IP address; ignored");
      return std::nullopt;
    }
    return ip->toString();
  }

  void take(const Line& l);
  void emit();
  CoturnImport result() { return std::move(out_); }

  Draft d;

 private:
  void takeAddressOption(const Line& l);
  void takeNumberOption(const Line& l);
  void emitListeners(std::ostringstream& y);
  void emitRelay(std::ostringstream& y);
  void emitAuth(std::ostringstream& y);
  std::vector<User> collectUsers();
  void emitPeersAndQuotas(std::ostringstream& y);

  std::string file_;
  std::string secretsPath_;
  CoturnImport out_;
};

void Importer::takeAddressOption(const Line& l) {
  // A repeated address would become a second, conflicting listener (or relay
  // address) that check-config refuses: kept once (found by the coturn_import fuzzer).
  auto addOnce = [&](std::vector<std::string>& list, const std::string& a) {
    if (std::find(list.begin(), list.end(), a) != list.end())
      return warn(l.number, l.key + "=" + l.value + ": repeated; ignored");
    list.push_back(a);
  };
  if (l.key == "listening-ip") {
    if (auto a = address(l, l.value, false)) addOnce(d.listenIps, *a);
  } else if (l.key == "relay-ip") {
    if (auto a = address(l, l.value, true)) addOnce(d.relayIps, *a);
  } else if (l.key == "external-ip") {
    // "public" or "public/private": turnwarden advertises the public one.
    const std::string pub = l.value.substr(0, l.value.find('/'));
    if (d.external) return warn(l.number, "only the first external-ip is converted; ignored");
    d.external = address(l, pub, true);
  } else if (l.key == "allowed-peer-ip" || l.key == "denied-peer-ip") {
    auto range = policy::IpRange::parse(l.value);
    if (!range) return warn(l.number, l.key + "=" + l.value + ": " + range.error() + "; ignored");
    (l.key == "allowed-peer-ip" ? d.allowed : d.denied).push_back(l.value);
  }
}

void Importer::takeNumberOption(const Line& l) {
  auto port = [&](std::optional<uint16_t>& out) {
    if (auto v = number(l, 1, 65535)) out = static_cast<uint16_t>(*v);
  };
  auto count = [&](std::optional<int64_t>& out, int64_t max) {
    if (auto v = number(l, 0, max)) out = *v;
  };
  if (l.key == "listening-port") return port(d.port);
  if (l.key == "tls-listening-port") return port(d.tlsPort);
  if (l.key == "min-port") return port(d.minPort);
  if (l.key == "max-port") return port(d.maxPort);
  if (l.key == "user-quota") return count(d.userQuota, 10'000'000);
  if (l.key == "total-quota") return count(d.totalQuota, 10'000'000);
  if (l.key == "max-bps") return count(d.maxBps, int64_t{1} << 40);
  if (l.key == "bps-capacity") return count(d.bpsCapacity, int64_t{1} << 40);
  if (l.key == "stale-nonce") {
    if (l.value.empty()) return void(d.staleNonce = 600);  // coturn's default
    return count(d.staleNonce, 86400 * 30);
  }
}

bool isAddressOption(std::string_view k) {
  return k == "listening-ip" || k == "relay-ip" || k == "external-ip" || k == "allowed-peer-ip" ||
         k == "denied-peer-ip";
}

bool isNumberOption(std::string_view k) {
  return k == "listening-port" || k == "tls-listening-port" || k == "min-port" || k == "max-port" ||
         k == "user-quota" || k == "total-quota" || k == "max-bps" || k == "bps-capacity" ||
         k == "stale-nonce";
}

void Importer::take(const Line& l) {
  const std::string& k = l.key;
  if (isAddressOption(k)) return takeAddressOption(l);
  if (isNumberOption(k)) return takeNumberOption(l);
  if (k == "realm") return void(d.realm = l.value);
  if (k == "static-auth-secret") return d.secrets.push_back(l);
  if (k == "user") return d.users.push_back(l);
  if (k == "cert") return void(d.cert = l.value);
  if (k == "pkey") return void(d.pkey = l.value);
  if (k == "no-tcp" || k == "no-udp" || k == "no-tls" || k == "no-dtls") {
    d.transportLine = l.number;
    (k == "no-tcp" ? d.noTcp : k == "no-udp" ? d.noUdp : k == "no-tls" ? d.noTls : d.noDtls) = true;
    return;
  }
  if (k == "allow-loopback-peers") {
    warn(l.number,
         "allow-loopback-peers: loopback peers allowed (127.0.0.0/8, ::1); "
         "this exposes local services through the relay");
    return void(d.allowLoopback = true);
  }
  if (k == "no-tcp-relay") return void(d.noTcpRelay = true);  // relay.tcp is off by default
  // Already turnwarden's behaviour: the built-in deny list covers them.
  if (k == "use-auth-secret" || k == "no-loopback-peers" || k == "no-multicast-peers") return;
  warn(l.number, "option '" + k + "' has no turnwarden equivalent; ignored");
}

bool isFile(const std::optional<std::string>& p) {
  std::error_code ec;
  return p && std::filesystem::is_regular_file(*p, ec);
}

void Importer::emitListeners(std::ostringstream& y) {
  std::vector<std::string> ips = d.listenIps;
  if (ips.empty()) ips.push_back("0.0.0.0");  // coturn's default: every interface
  std::vector<std::pair<std::string, uint16_t>> kinds;
  const uint16_t port = d.port.value_or(3478), tls = d.tlsPort.value_or(5349);
  if (!d.noUdp) kinds.push_back({"udp", port});
  if (!d.noTcp) kinds.push_back({"tcp", port});
  const bool haveCert = isFile(d.cert) && isFile(d.pkey);
  if ((d.cert || d.pkey) && !haveCert && !(d.noTls && d.noDtls))
    warn(0, "cert/pkey missing or not readable: TLS and DTLS listeners left out");
  if (haveCert && !d.noTls) kinds.push_back({"tls", tls});
  if (haveCert && !d.noDtls && tls != port) kinds.push_back({"dtls", tls});
  if (kinds.empty()) {
    warn(d.transportLine,
         "every transport is disabled (no-udp, no-tcp, no-tls/no-dtls or no certificate); "
         "a UDP listener was kept so the server can start");
    kinds.push_back({"udp", port});
  }
  y << "listeners:\n";
  for (const auto& ip : ips) {
    for (const auto& [t, p] : kinds) {
      y << "  - {transport: " << t << ", address: " << std::quoted(ip) << ", port: " << p;
      if (t == "tls" || t == "dtls")
        y << ", cert: " << std::quoted(*d.cert) << ", key: " << std::quoted(*d.pkey);
      y << "}\n";
    }
  }
}

void Importer::emitRelay(std::ostringstream& y) {
  std::vector<std::string> relays = d.relayIps;
  if (relays.empty()) {
    for (const auto& ip : d.listenIps)
      if (!IpAddress::parse(ip)->isUnspecified()) relays.push_back(ip);
  }
  std::sort(relays.begin(), relays.end());
  relays.erase(std::unique(relays.begin(), relays.end()), relays.end());
  y << "relay:\n";
  if (relays.empty()) {
    warn(0, "no relay-ip or concrete listening-ip: set relay.addresses (default 127.0.0.1)");
  } else {
    y << "  addresses: [";
    for (size_t i = 0; i < relays.size(); ++i) y << (i ? ", " : "") << std::quoted(relays[i]);
    y << "]\n";
  }
  if (d.external) {
    const auto fam = IpAddress::parse(*d.external)->family();
    const bool match = std::any_of(relays.begin(), relays.end(), [&](const std::string& r) {
      return IpAddress::parse(r)->family() == fam;
    });
    const bool defaultMatches = relays.empty() && fam == Family::V4;
    if (match || defaultMatches)
      y << "  external_address: " << std::quoted(*d.external) << "\n";
    else
      warn(0, "external-ip " + *d.external + " has no relay address of its family; left out");
  }
  uint16_t lo = d.minPort.value_or(49152), hi = d.maxPort.value_or(65535);
  if (lo > hi) {
    warn(0, "min-port is above max-port; the default 49152-65535 is used");
    lo = 49152, hi = 65535;
  }
  y << "  port_range: " << lo << "-" << hi << "\n";
  if (!d.noTcpRelay && !(d.noTcp && d.noTls)) {
    warn(0,
         "coturn relays TCP (RFC 6062) unless no-tcp-relay is set; turnwarden leaves it off "
         "(relay.tcp: false, browsers never use it); set relay.tcp: true if your clients do");
  }
}

std::vector<User> Importer::collectUsers() {
  std::vector<User> users;
  for (const Line& l : d.users) {
    const auto colon = l.value.find(':');
    const std::string name = l.value.substr(0, colon);
    const bool printable = std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7F; });
    if (colon == std::string::npos || name.empty() || !printable) {
      warn(l.number, "user= entry is not NAME:PASSWORD or NAME:0xKEY; ignored");
      continue;
    }
    if (std::any_of(users.begin(), users.end(), [&](const User& u) { return u.name == name; })) {
      warn(l.number, "user " + name + " appears again; only the first entry is kept");
      continue;
    }
    const std::string secret = l.value.substr(colon + 1);
    std::string key;
    if (secret.rfind("0x", 0) == 0 && secret.size() == 34 && hexDecode(secret.substr(2))) {
      key = secret.substr(2);
    } else {
      // coturn's long-term key: MD5(name:realm:password) (RFC 8489 §9.2.2).
      key = hexEncode(md5(asBytes(name + ":" + d.realm.value_or("") + ":" + secret)));
    }
    std::transform(key.begin(), key.end(), key.begin(),
                   [](char c) { return static_cast<char>(std::tolower(c)); });
    users.push_back(User{name, key});
  }
  return users;
}

void Importer::emitAuth(std::ostringstream& y) {
  for (const Line& l : d.secrets) {
    // The value is never echoed in a warning.
    if (l.value.size() < 16) {
      warn(l.number,
           "static-auth-secret is shorter than 16 bytes and was not imported; the "
           "server generates a 256-bit secret on first start (update your "
           "application servers)");
      continue;
    }
    const bool dup = std::any_of(out_.secrets.begin(), out_.secrets.end(),
                                 [&](const policy::Secret& s) { return s.value == l.value; });
    if (dup) {
      warn(l.number, "static-auth-secret repeats an earlier value; ignored");
      continue;
    }
    out_.secrets.push_back(policy::Secret{"coturn-line" + std::to_string(l.number), l.value, {}});
  }
  y << "auth:\n  secrets_file: " << std::quoted(secretsPath_) << "\n";
  if (d.staleNonce && *d.staleNonce > 0) y << "  nonce_lifetime: " << *d.staleNonce << "s\n";
  const std::vector<User> users = collectUsers();
  if (users.empty()) return;
  y << "  users:\n";
  for (const auto& u : users)
    y << "    - {name: " << std::quoted(u.name) << ", key: " << std::quoted(u.key) << "}\n";
}

void Importer::emitPeersAndQuotas(std::ostringstream& y) {
  if (d.allowLoopback) {
    d.allowed.push_back("127.0.0.0/8");
    d.allowed.push_back("::1");
  }
  if (!d.allowed.empty() || !d.denied.empty()) {
    y << "peers:\n";
    for (const auto& [name, list] : {std::pair{"allowed", &d.allowed}, std::pair{"denied", &d.denied}}) {
      if (list->empty()) continue;
      y << "  " << name << ":\n";
      for (const auto& r : *list) y << "    - " << std::quoted(r) << "\n";
    }
  }
  if (d.bpsCapacity && *d.bpsCapacity != 0 && *d.bpsCapacity < d.maxBps.value_or(2000000)) {
    warn(0, "bps-capacity is below max-bps: no allocation could be made; bps-capacity left out");
    d.bpsCapacity.reset();
  }
  // per_user may not exceed total (0 = unlimited). When total-quota is absent,
  // turnwarden's default total applies, so user-quota is checked against that
  // too (both cases found by the coturn_import fuzz target).
  const policy::QuotasConfig defaults{};
  const auto total = d.totalQuota.value_or(static_cast<int64_t>(defaults.total));
  if (d.userQuota && total != 0 && *d.userQuota > total) {
    if (d.totalQuota) {
      warn(0, "user-quota is above total-quota; user-quota left out");
      d.userQuota.reset();
    } else {
      warn(0, "user-quota is above turnwarden's default quotas.total (" + std::to_string(total) +
                  "); per_user capped at it");
      d.userQuota = total;
    }
  }
  // Without a user-quota, turnwarden's per_user default applies, and a total-quota
  // below it would make the written config invalid: one user may then hold every
  // allocation, as in coturn.
  if (!d.userQuota && total != 0 && total < static_cast<int64_t>(defaults.perUser)) d.userQuota = total;
  std::ostringstream q;
  if (d.userQuota) q << "  per_user: " << *d.userQuota << "\n";
  if (d.totalQuota) q << "  total: " << *d.totalQuota << "\n";
  if (d.maxBps) q << "  max_bps: " << *d.maxBps << "\n";
  if (d.bpsCapacity) q << "  total_bps: " << *d.bpsCapacity << "\n";
  if (!q.str().empty()) y << "quotas:\n" << q.str();
}

bool isProtocolText(std::string_view s) {
  return !s.empty() && s.size() <= 127 && std::all_of(s.begin(), s.end(), [](char c) {
    return c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
  });
}

void Importer::emit() {
  std::ostringstream y;
  y << "# Converted from " << file_ << " by turnwarden import-coturn. Review before use;\n"
    << "# see docs/config.md and docs/policy.md.\n";
  if (!d.realm || !isProtocolText(*d.realm)) {
    warn(0, "no usable realm= in the coturn config: 'example.org' written, set your own");
    d.realm = "example.org";
  }
  y << "realm: " << std::quoted(*d.realm) << "\n";
  emitListeners(y);
  emitRelay(y);
  emitAuth(y);
  emitPeersAndQuotas(y);
  out_.yaml = y.str();
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

std::optional<Line> parseLine(std::string_view raw, int number) {
  std::string text = trim(raw);
  if (text.empty() || text[0] == '#') return std::nullopt;
  if (text.rfind("--", 0) == 0) text.erase(0, 2);  // coturn accepts CLI spelling too
  const auto sep = text.find_first_of("= \t");
  Line l{number, text.substr(0, sep), ""};
  if (sep != std::string::npos) {
    l.value = trim(std::string_view(text).substr(sep + 1));
    if (!l.value.empty() && l.value[0] == '=') l.value = trim(std::string_view(l.value).substr(1));
    if (l.value.size() >= 2 && l.value.front() == '"' && l.value.back() == '"')
      l.value = l.value.substr(1, l.value.size() - 2);
  }
  return l;
}

}  // namespace

CoturnImport importCoturn(std::string_view confText, std::string_view fileName,
                          const std::string& secretsPath) {
  Importer im(fileName, secretsPath);
  int number = 0;
  size_t pos = 0;
  while (pos <= confText.size()) {
    const size_t nl = confText.find('\n', pos);
    const auto raw = confText.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    ++number;
    if (auto line = parseLine(raw, number)) im.take(*line);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  im.emit();
  return im.result();
}

}  // namespace tw::app
