// The pure checks of `turnwarden doctor`: config + HostFacts -> findings.
#include "relay/app/doctor.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "policy/peer_rules.h"
#include "relay/io/udp_socket.h"

namespace tw::app {

namespace {
using Findings = std::vector<Finding>;

void ok(Findings& out, std::string check, std::string message) {
  out.push_back({Severity::Ok, std::move(check), std::move(message), {}});
}
void warn(Findings& out, std::string check, std::string message, std::string fix) {
  out.push_back({Severity::Warn, std::move(check), std::move(message), std::move(fix)});
}
void fail(Findings& out, std::string check, std::string message, std::string fix) {
  out.push_back({Severity::Fail, std::move(check), std::move(message), std::move(fix)});
}

bool isLoopback(const IpAddress& a) {
  if (a.isV4()) return (a.v4Value() >> 24) == 127;
  return a.v6Value() == 1;
}

/// Public = routable on the Internet: not a wildcard and in none of the
/// special-purpose ranges the peer rules deny by default.
bool isPublic(const IpAddress& a) {
  if (a.isUnspecified()) return false;
  for (const auto& r : policy::PeerRules::builtinDenyList())
    if (r.range.contains(a)) return false;
  return true;
}

bool isStream(Transport t) { return t == Transport::Tcp || t == Transport::Tls; }

std::string num(uint64_t n) { return std::to_string(n); }

// ---------------------------------------------------------------- open files

void checkOpenFiles(const policy::Config& c, const HostFacts& h, Findings& out) {
  const char* kCheck = "open-files";
  const uint64_t total = c.quotas.total;
  const uint64_t have = h.openFilesSoft;
  if (total == 0) {
    warn(out, kCheck,
         "quotas.total is 0 (unlimited): only the open-file limit (" + num(have) +
             ") bounds allocations, and hitting it also refuses new clients",
         "set quotas.total to what this host should carry, e.g. 20000");
    return;
  }
  // Every worker opens its own SO_REUSEPORT socket on every listener.
  const uint64_t workers = c.workers != 0 ? c.workers : std::min(h.cores, policy::kMaxWorkers);
  const uint64_t listenerFds = c.listeners.size() * workers;
  const uint64_t needed = total + listenerFds + workers * kWorkerFds + kBaseFds;
  const bool streams = std::any_of(c.listeners.begin(), c.listeners.end(),
                                   [](const auto& l) { return isStream(l.transport); });
  // A TCP/TLS client holds its connection as well as its relay socket; a TCP
  // relay allocation holds at least one peer connection.
  const uint64_t recommended = needed + (streams ? total : 0) + (c.relay.tcp ? total : 0);
  const std::string limitFix = "raise the limit to at least " + num(recommended) +
                               ": LimitNOFILE=" + num(recommended) +
                               " in the systemd unit (the packaged unit has 65536), or "
                               "`ulimit -n " +
                               num(recommended) + "` before starting";
  if (have < needed) {
    fail(out, kCheck,
         "open-file limit " + num(have) + " cannot hold quotas.total " + num(total) +
             " allocations (1 fd each) + " + num(listenerFds) + " listener sockets (" +
             num(c.listeners.size()) + " listeners x " + num(workers) + " workers) + " +
             num(workers * kWorkerFds + kBaseFds) + " for the server itself = " + num(needed),
         limitFix);
  } else if (have < recommended) {
    warn(out, kCheck,
         "open-file limit " + num(have) + " holds quotas.total " + num(total) +
             " allocations but not one connection each for TCP/TLS clients (or TCP relay "
             "peers): " +
             num(recommended) + " needed",
         limitFix);
  } else {
    ok(out, kCheck,
       "open-file limit " + num(have) + " >= " + num(recommended) + " needed for quotas.total " + num(total));
  }
}

// ---------------------------------------------------------------- port range

void checkPortCapacity(const policy::Config& c, Findings& out) {
  const uint64_t ports = uint64_t(c.relay.portMax) - c.relay.portMin + 1;
  if (c.quotas.total != 0 && ports < c.quotas.total) {
    warn(out, "relay-ports",
         "relay.port_range " + num(c.relay.portMin) + "-" + num(c.relay.portMax) + " has " + num(ports) +
             " ports per relay address, fewer than quotas.total " + num(c.quotas.total) +
             ": allocations beyond that get 508",
         "widen relay.port_range, add a relay address, or lower quotas.total to " + num(ports));
  } else {
    ok(out, "relay-ports", "relay.port_range has " + num(ports) + " ports per relay address");
  }
}

void checkEphemeralOverlap(const policy::Config& c, const HostFacts& h, Findings& out) {
  const char* kCheck = "ephemeral-ports";
  if (!h.ephemeralPorts) {
    warn(out, kCheck, "net.ipv4.ip_local_port_range could not be read",
         "check it by hand: sysctl net.ipv4.ip_local_port_range");
    return;
  }
  const auto [elo, ehi] = *h.ephemeralPorts;
  const uint16_t lo = std::max(elo, c.relay.portMin), hi = std::min(ehi, c.relay.portMax);
  const std::string range = num(elo) + "-" + num(ehi);
  if (lo > hi) {
    ok(out, kCheck, "kernel ephemeral range " + range + " does not overlap relay.port_range");
    return;
  }
  std::string fix = "keep the kernel's ephemeral ports out of the relay range: ";
  if (c.relay.portMin > 32768 + 4096)
    fix += "echo 'net.ipv4.ip_local_port_range = 32768 " + num(c.relay.portMin - 1) +
           "' > /etc/sysctl.d/60-turnwarden.conf && sysctl --system";
  else
    fix += "move relay.port_range above " + num(ehi) + " or lower ip_local_port_range";
  warn(out, kCheck,
       "kernel ephemeral range " + range + " overlaps relay.port_range in " + num(hi - lo + 1) +
           " ports: outgoing connections of any process take relay ports (Allocate retries "
           "and loses capacity) and sit in the range the firewall opens to the Internet",
       fix);
}

// ---------------------------------------------------------------- exposure

void checkExposure(const policy::Config& c, Findings& out) {
  const char* kCheck = "exposure";
  const bool allLoopback = std::all_of(c.listeners.begin(), c.listeners.end(),
                                       [](const auto& l) { return isLoopback(l.address); });
  const bool reachable = std::any_of(c.listeners.begin(), c.listeners.end(), [](const auto& l) {
    return isPublic(l.address) || l.address.isUnspecified();
  });
  const auto& ext = c.relay.externalAddress;
  const bool publicRelay = std::any_of(c.relay.addresses.begin(), c.relay.addresses.end(),
                                       [](const auto& a) { return isPublic(a); });
  if (ext && isPublic(*ext) && allLoopback) {
    fail(out, kCheck,
         "relay.external_address " + ext->toString() +
             " is public but every listener is on loopback: no client can reach the server",
         "set the listeners' address to this host's address (or 0.0.0.0)");
  } else if (ext && !isPublic(*ext) && reachable) {
    warn(out, kCheck,
         "listeners face the network but relay.external_address " + ext->toString() +
             " is not a public address: remote peers cannot reach the relayed addresses",
         "set relay.external_address to the public address of the 1:1 NAT");
  } else if (!ext && reachable && !publicRelay) {
    warn(out, kCheck,
         "listeners face the network but the relay addresses are private and no "
         "relay.external_address is set: clients get relayed addresses nobody can reach",
         "behind 1:1 NAT (AWS, GCP) set relay.external_address to the public address; "
         "otherwise put the public address in relay.addresses");
  } else if (allLoopback) {
    ok(out, kCheck,
       "loopback only (a local test setup): set the listener and relay "
       "addresses to public ones to serve clients");
  } else {
    ok(out, kCheck, "listener and relay addresses are consistent");
  }
}

void checkOnInterface(const std::string& what, const IpAddress& a, const HostFacts& h, Findings& out) {
  if (a.isUnspecified()) return;
  const auto& ifs = h.interfaceAddresses;
  // Linux routes all of 127.0.0.0/8 to lo, so any of it binds once lo is up.
  const bool onLo = a.isV4() && isLoopback(a) &&
                    std::find(ifs.begin(), ifs.end(), IpAddress::v4(127, 0, 0, 1)) != ifs.end();
  if (onLo || std::find(ifs.begin(), ifs.end(), a) != ifs.end()) {
    ok(out, "addresses", what + " " + a.toString() + " is configured on an interface");
    return;
  }
  fail(out, "addresses", what + " " + a.toString() + " is not configured on any interface: binding it fails",
       "use an address listed by `ip -brief address`; behind 1:1 NAT bind the private "
       "address and put the public one in relay.external_address");
}

void checkAddresses(const policy::Config& c, const HostFacts& h, Findings& out) {
  for (const auto& a : c.relay.addresses) checkOnInterface("relay address", a, h, out);
  for (const auto& l : c.listeners)
    checkOnInterface(std::string(toString(l.transport)) + " listener", l.address, h, out);
}

// ---------------------------------------------------------------- certificates

bool certCovers(const CertFacts& cert, const std::vector<std::string>& hosts,
                const std::vector<IpAddress>& ips) {
  for (const auto& host : hosts)
    for (const auto& name : cert.dnsNames)
      if (certNameMatches(name, host)) return true;
  for (const auto& ip : ips)
    if (std::find(cert.ipAddresses.begin(), cert.ipAddresses.end(), ip) != cert.ipAddresses.end())
      return true;
  return false;
}

void checkCertNames(const policy::Config& c, const policy::ListenerConfig& l, const CertFacts& cert,
                    Findings& out) {
  const std::string where = std::string(toString(l.transport)) + " listener port " + num(l.port);
  std::string names;
  for (const auto& n : cert.dnsNames) names += (names.empty() ? "" : ", ") + n;
  if (!c.publicName.empty()) {
    // Every turns: URI names public_name: that is what clients verify, nothing else.
    if (certCovers(cert, {c.publicName}, {})) {
      ok(out, "certificate", l.cert + " covers public_name " + c.publicName + " (" + where + ")");
    } else {
      warn(out, "certificate",
           l.cert + " (" + (names.empty() ? "no DNS names" : names) + ") does not cover public_name " +
               c.publicName + ", the host of every turns: URI the server hands out: clients refuse it",
           "issue the certificate for " + c.publicName + " (or set public_name to a name it covers)");
    }
    return;
  }
  const std::string& realm = policy::effectiveRealm(c, l);
  std::vector<IpAddress> ips;
  if (!l.address.isUnspecified()) ips.push_back(l.address);
  if (c.relay.externalAddress) ips.push_back(*c.relay.externalAddress);
  if (certCovers(cert, {realm}, ips)) {
    ok(out, "certificate", l.cert + " covers the " + where);
    return;
  }
  warn(out, "certificate",
       l.cert + " (" + (names.empty() ? "no DNS names" : names) + ") covers neither realm " + realm +
           " nor the " + where + "'s address: clients verifying turns:" + realm + " refuse it",
       "set public_name to the name clients use in their turns: URI and issue the "
       "certificate for it (without public_name doctor matches the realm)");
}

void checkCertificate(const policy::Config& c, const policy::ListenerConfig& l, const HostFacts& h,
                      Findings& out) {
  const auto it = h.certs.find(l.cert);
  if (it == h.certs.end() || !it->second.error.empty()) {
    fail(out, "certificate", l.cert + ": " + (it == h.certs.end() ? "not read" : it->second.error),
         "point cert: at a readable PEM certificate chain");
    return;
  }
  const CertFacts& cert = it->second;
  const int64_t left = cert.notAfterUnix - h.nowUnix;
  const std::string renew =
      "renew it (certbot renew) and make the ACME renewal hook run `systemctl reload "
      "turnwarden`";
  if (left <= 0)
    fail(out, "certificate", l.cert + " has expired", renew);
  else if (left < kCertWarnSeconds)
    warn(out, "certificate", l.cert + " expires in " + num(uint64_t(left / 86400)) + " days", renew);
  else
    ok(out, "certificate", l.cert + " is valid for " + num(uint64_t(left / 86400)) + " days");
  checkCertNames(c, l, cert, out);
}

void checkCertificates(const policy::Config& c, const HostFacts& h, Findings& out) {
  for (const auto& l : c.listeners)
    if (l.transport == Transport::Tls || l.transport == Transport::Dtls) checkCertificate(c, l, h, out);
}

// ---------------------------------------------------------------- keyring

std::string octal(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", unsigned(mode & 07777));
  return buf;
}

void checkKeyringAge(const policy::Config& c, const HostFacts& h, Findings& out) {
  const auto& file = c.auth.secretsFile;
  const int64_t age = h.nowUnix - h.keyring.mtimeUnix;
  const auto& rot = c.auth.rotation;
  if (!rot || rot->interval.count() == 0) {
    ok(out, "keyring-age",
       file + " last written " + num(uint64_t(std::max<int64_t>(age, 0) / 86400)) +
           " days ago; no automatic rotation (auth.rotation) is set");
    return;
  }
  const int64_t interval = std::chrono::duration_cast<std::chrono::seconds>(rot->interval).count();
  // The server checks the schedule about once a minute; an hour late means
  // it is not running, or cannot write the file.
  if (age > interval + 3600) {
    warn(out, "keyring-age",
         file + " was last rotated " + num(uint64_t(age / 3600)) +
             " hours ago, more than auth.rotation.interval allows",
         "start the server (it rotates on schedule), make sure its user can write the "
         "directory, or run `turnwarden rotate --config FILE`");
  } else {
    ok(out, "keyring-age", file + " rotated within auth.rotation.interval");
  }
}

void checkKeyring(const policy::Config& c, const HostFacts& h, Findings& out) {
  if (c.auth.secretsFile.empty()) {
    ok(out, "keyring", "inline auth.secrets: no keyring file");
    return;
  }
  const auto& file = c.auth.secretsFile;
  if (!h.keyring.exists) {
    ok(out, "keyring",
       file +
           " does not exist yet: the server generates it (mode 0600) on "
           "first start");
    return;
  }
  if (h.keyring.mode & 077) {
    fail(out, "keyring",
         file + " has mode " + octal(h.keyring.mode) +
             ": group or others can read the REST secrets, and the server refuses it",
         "chmod 600 " + file + ", then rotate it (`turnwarden rotate`): it may have leaked");
    return;
  }
  // The server writes the keyring into a directory it owns; a keyring owned by
  // someone else (`turnwarden rotate` run as root) is one it cannot read.
  if (h.keyringDir.exists && h.keyring.uid != h.keyringDir.uid) {
    warn(out, "keyring",
         file + " is owned by uid " + num(h.keyring.uid) + ", its directory by uid " + num(h.keyringDir.uid) +
             ": the server, running as the directory's owner, cannot "
             "read a keyring it does not own",
         "chown --reference=" + file.substr(0, file.rfind('/') + 1) + " " + file +
             "; run `turnwarden rotate` as the server's user (sudo -u turnwarden ...)");
  } else {
    ok(out, "keyring", file + " has mode " + octal(h.keyring.mode));
  }
  checkKeyringAge(c, h, out);
}

// ---------------------------------------------------------------- HTTP endpoints

void checkMetricsEndpoint(const policy::Config& c, Findings& out) {
  if (!c.metrics.enabled) return ok(out, "metrics", "metrics listener is off");
  const auto& at = c.metrics.listen;
  if (isLoopback(at.ip)) return ok(out, "metrics", "metrics on loopback " + at.toString());
  warn(out, "metrics",
       "metrics listen on " + at.toString() +
           " with no token: anyone who reaches it reads traffic, allocation and attack "
           "counters",
       "set metrics.listen to 127.0.0.1:9641 and scrape through a local agent, or firewall "
       "the port to the Prometheus server");
}

/// Fleet mode keeps the keyring in Redis in clear (docs/fleet.md, "Safety"):
/// a Redis without AUTH hands it to anyone who reaches the port.
void checkFleetRedis(const policy::Config& c, Findings& out) {
  if (!c.fleet) return;
  const auto& r = c.fleet->redis;
  if (!r.passwordFile.empty()) return ok(out, "fleet", "Redis AUTH from " + r.passwordFile);
  warn(out, "fleet",
       "fleet mode with no fleet.redis.password_file: Redis holds the keyring in clear, and "
       "anyone who reaches " +
           r.host + ":" + num(r.port) + " can read it and mint credentials",
       "set requirepass in Redis and fleet.redis.password_file (mode 0600) on every node; keep "
       "Redis on a private network, TLS through stunnel (docs/fleet.md, Safety)");
}

void checkAdminEndpoint(const policy::Config& c, const HostFacts& h, Findings& out) {
  if (!c.admin.listen) return ok(out, "admin", "admin API is off");
  const auto& at = *c.admin.listen;
  const auto& tok = h.adminToken;
  if (!tok.exists || (tok.mode & 077)) {
    const std::string why = tok.exists ? "has mode " + octal(tok.mode) : "does not exist";
    (isLoopback(at.ip) ? warn : fail)(
        out, "admin",
        "admin API on " + at.toString() + " but its token file " + c.admin.tokenFile + " " + why,
        "head -c 32 /dev/urandom | base64 > " + c.admin.tokenFile + "; chmod 600 " + c.admin.tokenFile);
    return;
  }
  if (isLoopback(at.ip)) return ok(out, "admin", "admin API on loopback with a token");
  warn(out, "admin",
       "admin API on " + at.toString() +
           ": plain HTTP, so the bearer token crosses the "
           "network in clear",
       "bind admin.listen to loopback and reach it over SSH or a TLS reverse proxy");
}

// ---------------------------------------------------------------- buffers

void checkReceiveBuffers(const HostFacts& h, Findings& out) {
  const uint64_t want = io::kListenerBufferBytes;
  if (!h.rmemMax) {
    warn(out, "udp-buffers", "net.core.rmem_max could not be read",
         "check it by hand: sysctl net.core.rmem_max");
  } else if (*h.rmemMax < want) {
    warn(out, "udp-buffers",
         "net.core.rmem_max " + num(*h.rmemMax) + " caps the " + num(want) +
             "-byte receive buffer of the UDP listeners: bursts are dropped by the kernel",
         "echo 'net.core.rmem_max = " + num(want) +
             "' > /etc/sysctl.d/60-turnwarden-buffers.conf"
             " && sysctl --system");
  } else {
    ok(out, "udp-buffers", "net.core.rmem_max " + num(*h.rmemMax) + " >= " + num(want));
  }
}

std::string_view label(Severity s) {
  switch (s) {
    case Severity::Ok:
      return "OK  ";
    case Severity::Warn:
      return "WARN";
    case Severity::Fail:
      return "FAIL";
  }
  return "?";
}
}  // namespace

bool certNameMatches(const std::string& pattern, const std::string& host) {
  auto lower = [](std::string s) {
    for (auto& ch : s) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  const std::string p = lower(pattern), hn = lower(host);
  if (p.rfind("*.", 0) != 0) return p == hn;
  // "*.example.com" covers exactly one more label: a.example.com, not example.com.
  const auto dot = hn.find('.');
  return dot != std::string::npos && dot > 0 && hn.substr(dot) == p.substr(1);
}

std::vector<Finding> runDoctorChecks(const policy::Config& config, const HostFacts& host) {
  Findings out;
  checkOpenFiles(config, host, out);
  checkPortCapacity(config, out);
  checkEphemeralOverlap(config, host, out);
  checkExposure(config, out);
  checkAddresses(config, host, out);
  checkCertificates(config, host, out);
  checkKeyring(config, host, out);
  checkMetricsEndpoint(config, out);
  checkAdminEndpoint(config, host, out);
  checkFleetRedis(config, out);
  checkReceiveBuffers(host, out);
  return out;
}

std::string formatReport(const std::vector<Finding>& findings) {
  std::string out;
  size_t warns = 0, fails = 0;
  for (const auto& f : findings) {
    out += std::string(label(f.severity)) + " " + f.check + ": " + f.message + "\n";
    if (!f.fix.empty()) out += "     fix: " + f.fix + "\n";
    warns += f.severity == Severity::Warn;
    fails += f.severity == Severity::Fail;
  }
  out += std::to_string(findings.size()) + " checks: " + std::to_string(fails) + " FAIL, " +
         std::to_string(warns) + " WARN\n";
  return out;
}

int doctorExitCode(const std::vector<Finding>& findings) {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == Severity::Fail; })
             ? 1
             : 0;
}

}  // namespace tw::app
