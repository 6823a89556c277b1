// `turnwarden doctor`: reads the live host into HostFacts (read-only: /proc,
// getifaddrs, stat, the certificate files) and prints the report.
#include <ifaddrs.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "relay/app/cli.h"
#include "relay/app/doctor.h"
#include "relay/base/clock.h"
#include "relay/base/openssl_handles.h"

namespace tw::app {

namespace {
std::optional<std::string> readText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<std::pair<uint16_t, uint16_t>> readPortRange(const std::string& path) {
  auto text = readText(path);
  unsigned lo = 0, hi = 0;
  if (!text || std::sscanf(text->c_str(), "%u %u", &lo, &hi) != 2 || lo > hi || hi > 65535)
    return std::nullopt;
  return std::pair<uint16_t, uint16_t>{uint16_t(lo), uint16_t(hi)};
}

std::optional<uint64_t> readNumber(const std::string& path) {
  auto text = readText(path);
  unsigned long long n = 0;
  if (!text || std::sscanf(text->c_str(), "%llu", &n) != 1) return std::nullopt;
  return n;
}

std::vector<IpAddress> interfaceAddresses() {
  std::vector<IpAddress> out;
  ifaddrs* raw = nullptr;
  if (getifaddrs(&raw) != 0) return out;
  const Handle<ifaddrs, freeifaddrs> list(raw);
  for (ifaddrs* i = list.get(); i; i = i->ifa_next)
    if (auto sa = i->ifa_addr ? SocketAddress::fromSockaddr(i->ifa_addr) : std::nullopt)
      out.push_back(sa->ip);
  return out;
}

FileFacts statFile(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
  return {true, uint32_t(st.st_mode & 07777), int64_t(st.st_mtime), uint32_t(st.st_uid)};
}

void addAltNames(X509* x, CertFacts& out) {
  const Handle<GENERAL_NAMES, GENERAL_NAMES_free> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type == GEN_DNS) {
      const auto* s = n->d.dNSName;
      out.dnsNames.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                size_t(ASN1_STRING_length(s)));
    } else if (n->type == GEN_IPADD) {
      const auto* s = n->d.iPAddress;
      std::array<uint8_t, 16> b{};
      const int len = ASN1_STRING_length(s);
      std::copy_n(ASN1_STRING_get0_data(s), std::min(len, 16), b.begin());
      if (len == 4) out.ipAddresses.push_back(IpAddress::v4(b[0], b[1], b[2], b[3]));
      if (len == 16) out.ipAddresses.push_back(IpAddress::v6(b));
    }
  }
  // Without DNS subjectAltNames, clients fall back to the subject CN.
  char cn[256];
  if (out.dnsNames.empty() &&
      X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn) > 0)
    out.dnsNames.emplace_back(cn);
}

CertFacts readCertificate(const std::string& path) {
  CertFacts out;
  const Handle<FILE, fclose> f(std::fopen(path.c_str(), "r"));
  if (!f) return {"cannot open: " + std::string(std::strerror(errno))};
  const X509Ptr x(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
  if (!x) return {"not a PEM certificate"};
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(x.get()), &tm) == 1) out.notAfterUnix = int64_t(timegm(&tm));
  addAltNames(x.get(), out);
  return out;
}
}  // namespace

HostFacts gatherHostFacts(const policy::Config& config) {
  HostFacts h;
  SystemClock clock;
  h.nowUnix = clock.unixSeconds();
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) h.openFilesSoft = rl.rlim_cur;
  h.cores = std::max(1u, std::thread::hardware_concurrency());
  h.ephemeralPorts = readPortRange("/proc/sys/net/ipv4/ip_local_port_range");
  h.rmemMax = readNumber("/proc/sys/net/core/rmem_max");
  h.interfaceAddresses = interfaceAddresses();
  for (const auto& l : config.listeners)
    if (!l.cert.empty() && !h.certs.count(l.cert)) h.certs[l.cert] = readCertificate(l.cert);
  h.keyring = statFile(config.auth.secretsFile);
  const auto slash = config.auth.secretsFile.rfind('/');
  if (slash != std::string::npos) h.keyringDir = statFile(config.auth.secretsFile.substr(0, slash + 1));
  h.adminToken = statFile(config.admin.tokenFile);
  return h;
}

/// Parses (not loadConfig): a keyring with loose permissions must become a
/// finding of the report, not an error that stops it.
int doctorCommand(const CliArgs& args) {
  const auto text = readText(args.config);
  if (!text) {
    std::fprintf(stderr, "turnwarden: cannot read %s\n", args.config.c_str());
    return 2;
  }
  auto cfg = policy::parseConfig(*text, args.config);
  if (!cfg) {
    std::fputs(policy::formatErrors(cfg.error()).c_str(), stdout);
    return 2;
  }
  const auto findings = runDoctorChecks(cfg.value(), gatherHostFacts(cfg.value()));
  std::fputs(formatReport(findings).c_str(), stdout);
  return doctorExitCode(findings);
}

}  // namespace tw::app
