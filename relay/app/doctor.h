#pragma once
// `turnwarden doctor --config FILE`: a read-only check of the live host
// against a config, for the mistakes that only show on a public deployment
// (too few file descriptors, relay ports shared with the kernel's ephemeral
// range, a loopback listener behind a public external_address, an expiring
// certificate...).
//
/// The checks are pure: gatherHostFacts() (doctor_host.cc) reads the host once
/// into HostFacts, and runDoctorChecks() only compares that data with the
/// config. So every check is unit-tested by building the bad HostFacts
/// directly, with no root, no sysctl and no real certificate.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policy/config.h"
#include "relay/base/address.h"

namespace tw::app {

enum class Severity { Ok, Warn, Fail };

/// One line of the report: what was checked, what was found and, unless it
/// is OK, how to fix it.
struct Finding {
  Severity severity = Severity::Ok;
  std::string check;    ///< short stable name, e.g. "open-files"
  std::string message;  ///< what was found, with the numbers
  std::string fix;      ///< empty when severity is Ok
};

/// What a certificate file says, as far as the checks care.
struct CertFacts {
  std::string error;  ///< non-empty: the file could not be read or parsed
  int64_t notAfterUnix = 0;
  std::vector<std::string> dnsNames;   ///< subjectAltName DNS entries, else the CN
  std::vector<IpAddress> ipAddresses;  ///< subjectAltName IP entries
};

/// stat() of a file that matters (keyring, admin token).
struct FileFacts {
  bool exists = false;
  uint32_t mode = 0;  ///< permission bits (st_mode & 07777)
  int64_t mtimeUnix = 0;
  uint32_t uid = 0;  ///< owner
};

/// Everything the checks read from the host, gathered once.
struct HostFacts {
  int64_t nowUnix = 0;
  uint64_t openFilesSoft = 0;  ///< RLIMIT_NOFILE of this process
  /// Cores the server would see (`workers: auto` runs one worker per core).
  uint32_t cores = 1;
  /// net.ipv4.ip_local_port_range; nullopt when /proc/sys is not readable.
  std::optional<std::pair<uint16_t, uint16_t>> ephemeralPorts;
  std::optional<uint64_t> rmemMax;  ///< net.core.rmem_max
  std::vector<IpAddress> interfaceAddresses;
  std::map<std::string, CertFacts> certs;  ///< by certificate path
  FileFacts keyring;                       ///< auth.secrets_file (unused with inline secrets)
  FileFacts keyringDir;                    ///< its directory (the server's StateDirectory when packaged)
  FileFacts adminToken;                    ///< admin.token_file
};

/// Certificates expiring sooner than this are a FAIL.
constexpr int64_t kCertWarnSeconds = 14 * 86400;
/// fds a server needs besides relay sockets and connections: stdio, epoll,
/// event pipes, metrics/admin HTTP, the event log, the keyring watch.
constexpr uint64_t kBaseFds = 64;
/// fds each worker holds besides its listener sockets: its epoll instance,
/// its queue's notification pipe (two ends) and the send-batch timer.
constexpr uint64_t kWorkerFds = 4;

/// Runs every check, in a fixed order; one or more findings per check.
std::vector<Finding> runDoctorChecks(const policy::Config& config, const HostFacts& host);

/// Reads the live host for `config` (doctor_host.cc).
HostFacts gatherHostFacts(const policy::Config& config);

/// "OK   check: message" lines, with "     fix: ..." under WARN and FAIL,
/// then a summary line.
std::string formatReport(const std::vector<Finding>& findings);

/// 1 if any finding is a FAIL, else 0.
int doctorExitCode(const std::vector<Finding>& findings);

/// True when `pattern` (a certificate DNS name, "*.example.com" allowed as
/// the leftmost label only) covers `host` (RFC 6125 §6.4.3, case-insensitive).
bool certNameMatches(const std::string& pattern, const std::string& host);

}  // namespace tw::app
