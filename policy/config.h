#pragma once
// The YAML configuration of turnwarden, parsed into plain structs.
//
// Parsing is strict and exhaustive: every problem in the file is reported at
// once (unknown keys with a "did you mean", wrong types, bad ranges, missing
// secrets...), each with FILE:LINE:COL, so an operator fixes a config in one
// round instead of one error per restart. The key names and defaults are
// documented in docs/config.md; etc/turnwarden.yaml is the secure default.
//
// Secret values never appear in any error message.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/credentials.h"
#include "policy/fleet_config.h"
#include "policy/ip_range.h"
#include "policy/jwt_keys.h"
#include "policy/quotas.h"
#include "policy/rotation.h"
#include "relay/base/address.h"
#include "relay/base/clock.h"
#include "relay/base/log.h"
#include "relay/base/result.h"

namespace tw::policy {

/// One problem found in a config or secrets file.
struct ConfigError {
  std::string file;
  int line = 0;    ///< 1-based; 0 when the problem is about the file as a whole.
  int column = 0;  ///< 1-based; 0 when unknown.
  std::string message;

  /// "FILE:LINE:COL: message", or "FILE: message" when there is no position,
  /// the format editors and CI logs turn into clickable locations.
  std::string format() const;
};

/// Formats every error, one per line (each line ends with '\n').
std::string formatErrors(const std::vector<ConfigError>& errors);

/// A socket the server accepts clients on.
struct ListenerConfig {
  Transport transport = Transport::Udp;
  IpAddress address = IpAddress::v4(127, 0, 0, 1);
  uint16_t port = 3478;
  std::string cert;  ///< PEM certificate chain, absolute path; tls/dtls only.
  std::string key;   ///< PEM private key, absolute path; tls/dtls only.
  /// realm: of this listener (401/438 REALM, key derivation, peers.realms);
  /// empty = the top-level realm.
  std::string realm;
};

struct RelayConfig {
  /// Addresses relayed sockets bind to; at most one per family is typical.
  std::vector<IpAddress> addresses{IpAddress::v4(127, 0, 0, 1)};
  /// Advertised in XOR-RELAYED-ADDRESS instead of the bound address (1:1 NAT).
  std::optional<IpAddress> externalAddress;
  uint16_t portMin = 49152;  ///< Inclusive relay port range.
  uint16_t portMax = 65535;
  /// relay.tcp: TCP relay (RFC 6062) for clients on tcp/tls listeners. Off
  /// by default: browsers never use it, and it turns the relay into a TCP
  /// proxy to any allowed host (SMTP, HTTP...). Reloadable.
  bool tcp = false;
};

struct AuthConfig {
  /// REST API keyring: every secret verifies, secrets[0] mints. Filled from
  /// auth.secrets, or by loadConfig() from auth.secrets_file when it exists.
  std::vector<Secret> secrets;
  /// Absolute path of the keyring file (empty when auth.secrets is inline).
  /// If set and `secrets` is empty after loadConfig(), the file does not
  /// exist yet and the server should generateSecretsFile() it.
  std::string secretsFile;
  int64_t maxTtlSeconds = 86400;
  int64_t clockSkewSeconds = 300;
  tw::Duration nonceLifetime = std::chrono::minutes(10);
  std::vector<StaticUser> users;
  /// auth.blocked_users: REST user parts (or static user names) refused
  /// with 403 on Allocate and Refresh; a reload ends their allocations.
  std::vector<std::string> blockedUsers;
  /// auth.rotation: automatic rotation of the keyring file (needs
  /// secrets_file; grace >= max_ttl).
  std::optional<RotationConfig> rotation;
};

/// One peer rule as written: the parsed range, the original text for logs
/// and error messages, and an optional inclusive port range.
struct PeerRangeConfig {
  IpRange range;
  std::string text;
  std::optional<std::pair<uint16_t, uint16_t>> ports;
};

/// peers.realms.REALM: rules of one realm, checked before the global ones.
struct RealmPeersConfig {
  std::string realm;
  int line = 0;    ///< 0-based position of the realm key (for the
  int column = 0;  ///< "no listener uses this realm" error).
  std::vector<PeerRangeConfig> allowed;
  std::vector<PeerRangeConfig> denied;
};

struct PeersConfig {
  std::vector<PeerRangeConfig> allowed;
  std::vector<PeerRangeConfig> denied;
  bool defaultDeny = true;
  std::vector<RealmPeersConfig> realms;
};

/// Which channel numbers ChannelBind accepts.
enum class ChannelNumbers {
  Rfc5766,  ///< 0x4000-0x7FFF: what most deployed clients use.
  Rfc8656,  ///< 0x4000-0x4FFF: the narrowed range of RFC 8656 §12.
};

struct LimitsConfig {
  tw::Duration maxAllocationLifetime = std::chrono::hours(1);
  tw::Duration defaultAllocationLifetime = std::chrono::minutes(10);
  ChannelNumbers channelNumbers = ChannelNumbers::Rfc5766;
  size_t permissionsPerRequest = 16;
  size_t permissionsPerAllocation = 32;
  size_t channelsPerAllocation = 32;

  uint16_t channelMin() const { return 0x4000; }
  uint16_t channelMax() const { return channelNumbers == ChannelNumbers::Rfc8656 ? 0x4FFF : 0x7FFF; }
};

/// Limits of connection-oriented transports (TCP, TLS; config `transports:`).
struct TransportsConfig {
  size_t maxConnectionsPerIp = 64;     ///< Live stream connections from one client IP.
  size_t streamBufferBytes = 16384;    ///< Largest frame a stream client may announce.
  size_t streamOutputBytes = 262144;   ///< Output backlog above which relay data is dropped.
  tw::Duration idleTimeout = std::chrono::seconds(30);       ///< Connections with no allocation.
  tw::Duration handshakeTimeout = std::chrono::seconds(10);  ///< TLS/DTLS handshakes.
  /// TCP relay: bytes a peer connection may send before its ConnectionBind;
  /// then the relay stops reading and TCP flow control holds the rest.
  size_t tcpRelayBufferBytes = 65536;
};

/// io: how workers move UDP datagrams (config `io:`). Restart-only: a
/// worker opens its io_uring rings and send arena when it starts.
enum class UringUse { Auto, Send, Off };  ///< auto: sends and relay receives where the kernel allows
enum class SendBatching { Gso, Mmsg, Off };
struct IoConfig {
  UringUse uring = UringUse::Auto;
  SendBatching sendBatch = SendBatching::Gso;
  bool operator==(const IoConfig&) const = default;
};

struct LogConfig {
  tw::LogLevel level = tw::LogLevel::Info;
};

struct ServerConfig {
  /// SOFTWARE attribute text; unset by default because every byte added to
  /// unauthenticated responses raises the amplification factor.
  std::optional<std::string> software;
};

/// metrics: the Prometheus /metrics, /healthz and /readyz listener. On by
/// default, on loopback only: counters name no user or address, but the
/// listener is not meant to face the Internet.
struct MetricsConfig {
  bool enabled = true;
  SocketAddress listen{IpAddress::v4(127, 0, 0, 1), 9641};
};

/// events: the security event log (JSON lines, docs/config.md).
struct EventsConfig {
  std::string file;  ///< Absolute path; empty = stderr.
  size_t queue = 4096;  ///< Events waiting for the writer; more are dropped and counted.
  tw::Duration sampleWindow = std::chrono::seconds(60);  ///< Per-source sampling window.
};

/// admin: the admin and credential HTTP API; off unless `listen` is set.
struct AdminConfig {
  std::optional<SocketAddress> listen;
  std::string tokenFile;  ///< Absolute path of the bearer token (mode 0600).
};

/// anomalies: detector thresholds (docs/config.md). 0 turns a detector off.
struct AnomaliesConfig {
  tw::Duration window = std::chrono::seconds(60);
  uint32_t bruteForceFailures = 20;   ///< failed auths per source IP per window
  uint32_t scanDistinctPeers = 20;    ///< distinct peers per allocation per window
  bool scanRevoke = false;            ///< end the scanning allocation
  double spikeFactor = 10;            ///< x the allocation's own EWMA rate...
  uint64_t spikeMinBps = 1'000'000;   ///< ...and at least this many bits/s
  uint64_t maxBps = 0;                ///< one allocation above this (bits/s)
  uint64_t totalBps = 0;              ///< all relayed traffic above this (bits/s)
  uint32_t churnAllocations = 30;     ///< allocations created+deleted per IP per window
  uint32_t deniedPeerBurst = 10;      ///< 403s per user per window
  uint32_t sharingIps = 5;            ///< distinct client IPs per user per sharing window
  tw::Duration sharingWindow = std::chrono::minutes(10);
};

/// credentials: the public endpoint that trades an application's JWT for
/// TURN credentials (docs/credentials.md); off unless `listen` is set.
struct CredentialsConfig {
  std::optional<SocketAddress> listen;
  std::string jwksFile;  ///< Absolute path of the JWKS the app exports.
  /// The keys of jwksFile, loaded by loadConfig() (null after parseConfig()).
  std::shared_ptr<const Jwks> jwks;
  std::string issuer;
  std::vector<std::string> audiences;
  int64_t ttlSeconds = 600;
  /// Exact origins ("https://app.example.org") that get CORS headers.
  std::vector<std::string> allowedOrigins;
  std::string cert;  ///< PEM files: HTTPS when both are set.
  std::string key;
  bool insecureHttp = false;  ///< plain HTTP on a non-loopback address
  RateConfig perIp{20, 200};  ///< requests_per_ip: generous, for CGNAT
  RateConfig perUser{1, 10};  ///< requests_per_user: per verified sub
};

struct Config {
  std::string sourcePath;  ///< The file name given to parseConfig()/loadConfig().
  std::string realm;
  std::vector<ListenerConfig> listeners{ListenerConfig{}};
  RelayConfig relay;
  AuthConfig auth;
  PeersConfig peers;
  LimitsConfig limits;
  TransportsConfig transports;
  IoConfig io;                 ///< io: (config_io.cc); restart-only
  LogConfig log;
  ServerConfig server;
  QuotasConfig quotas;         ///< quotas: (config_quotas.cc)
  RateLimitsConfig rateLimits; ///< rate_limits:
  BansConfig bans;             ///< bans:
  MetricsConfig metrics;
  EventsConfig events;
  AdminConfig admin;
  AnomaliesConfig anomalies;
  std::optional<FleetConfig> fleet;  ///< fleet: (config_fleet.cc); nullopt = alone
  /// workers: auto (0: one per core) or N event-loop threads. Restart-only.
  uint32_t workers = 0;
  CredentialsConfig credentials;
};

/// How many workers `workers` asks for: N, or one per core for auto (at
/// least 1, at most kMaxWorkers).
uint32_t workerCount(const Config& config);
/// Upper bound of `workers:` (allocation ids carry the worker in their low bits).
inline constexpr uint32_t kMaxWorkers = 256;

/// The realm `listener` serves: its own realm:, else the top-level realm.
const std::string& effectiveRealm(const Config& config, const ListenerConfig& listener);

/// Parses and validates config text without touching the file system, so it
/// is usable on embedded defaults and in tests. `fileName` is used in error
/// messages and to resolve relative paths (secrets_file, cert, key) against
/// its directory. auth.secrets_file is recorded but not read.
tw::Result<Config, std::vector<ConfigError>> parseConfig(std::string_view yamlText,
                                                         std::string_view fileName);

/// Reads and parses `path`, then performs the validation that needs the file
/// system: when auth.secrets_file exists it is loaded with loadSecretsFile()
/// (so a keyring with group/world permission bits, or a malformed one, is
/// refused with errors naming that file); tls/dtls cert and key files must
/// exist. A secrets_file that does not exist yet is not an error: the server
/// generates it on first start.
tw::Result<Config, std::vector<ConfigError>> loadConfig(const std::string& path);

/// loadConfig() for text that did not come from `fileName` itself, e.g. the
/// built-in default config: parses like parseConfig() (paths resolve against
/// fileName's directory) and then does loadConfig()'s file-system checks, so
/// an existing keyring next to it is loaded rather than regenerated.
tw::Result<Config, std::vector<ConfigError>> loadConfigText(std::string_view yamlText,
                                                            std::string_view fileName);

}  // namespace tw::policy
