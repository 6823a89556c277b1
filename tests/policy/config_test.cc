#include "policy/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "policy/secrets_file.h"
#include "relay/base/random.h"

using namespace tw::policy;
using namespace std::chrono_literals;

namespace {

constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";  // 32 bytes
constexpr const char* kFile = "conf/test.yaml";

/// A mkdtemp directory under /tmp, removed with its contents at scope exit.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/tw_config_test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text, mode_t mode = 0644) const {
    std::string p = path + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p) << text;
    REQUIRE(::chmod(p.c_str(), mode) == 0);
    return p;
  }
};

/// A minimal valid config followed by `extra` (which may add top-level keys).
std::string minimal(const std::string& extra = "") {
  return "realm: example.org\nauth:\n  secrets:\n    - {id: k1, value: \"" + std::string(kSecret) + "\"}\n" +
         extra;
}

std::vector<ConfigError> errorsOf(const std::string& yaml) {
  auto r = parseConfig(yaml, kFile);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

std::string allFormatted(const std::vector<ConfigError>& errors) { return formatErrors(errors); }

/// The one error whose formatted text contains `needle`; fails if none.
ConfigError errorWith(const std::vector<ConfigError>& errors, const std::string& needle) {
  for (const ConfigError& e : errors) {
    if (e.format().find(needle) != std::string::npos) return e;
  }
  FAIL("no error contains '" << needle << "' in:\n" << allFormatted(errors));
  return {};
}

/// Checks that `yaml` fails with an error at LINE:COL mentioning `needle`.
void expectErrorAt(const std::string& yaml, int line, int column, const std::string& needle) {
  auto errors = errorsOf(yaml);
  ConfigError e = errorWith(errors, needle);
  INFO(e.format());
  CHECK(e.file == kFile);
  CHECK(e.line == line);
  CHECK(e.column == column);
  std::string prefix = std::string(kFile) + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  CHECK(e.format().rfind(prefix, 0) == 0);
}

const char* kFullConfig = R"(realm: turn.example.org
listeners:
  - {transport: udp, address: 192.0.2.10, port: 3478}
  - transport: tls
    address: "2001:db8::10"
    cert: tls/cert.pem
    key: /etc/tw/key.pem
  - {transport: tcp, address: 192.0.2.10, port: 3478}
relay:
  addresses: [192.0.2.10, "2001:db8::10"]
  external_address: 198.51.100.7
  port_range: 50000-50999
auth:
  secrets:
    - {id: k2, value: "0123456789abcdef0123456789abcdef"}
    - {id: k1.old, value: "fedcba9876543210fedcba9876543210", not_after: 1767225600}
  max_ttl: 12h
  clock_skew: 30s
  nonce_lifetime: 1m30s
  users:
    - {name: alice, key: 00112233445566778899aabbccddeeff}
peers:
  allowed:
    - 10.1.2.3
    - {range: 10.2.0.0/16, ports: 10000-20000}
  denied: [203.0.113.0/24, 198.51.100.1-198.51.100.9]
  default_deny: false
limits:
  max_allocation_lifetime: 2h
  default_allocation_lifetime: 600
  channel_numbers: rfc8656
  permissions_per_request: 8
  permissions_per_allocation: 64
  channels_per_allocation: 100
log:
  level: debug
server:
  software: turnwarden test
)";

}  // namespace

TEST_CASE("a full config fills every struct field", "[config]") {
  auto r = parseConfig(kFullConfig, "/etc/tw/turnwarden.yaml");
  INFO((r.ok() ? "" : formatErrors(r.error())));
  REQUIRE(r.ok());
  const Config& c = r.value();
  CHECK(c.sourcePath == "/etc/tw/turnwarden.yaml");
  CHECK(c.realm == "turn.example.org");

  REQUIRE(c.listeners.size() == 3);
  CHECK(c.listeners[0].transport == tw::Transport::Udp);
  CHECK(c.listeners[0].address == *tw::IpAddress::parse("192.0.2.10"));
  CHECK(c.listeners[0].port == 3478);
  CHECK(c.listeners[0].cert.empty());
  CHECK(c.listeners[1].transport == tw::Transport::Tls);
  CHECK(c.listeners[1].address == *tw::IpAddress::parse("2001:db8::10"));
  CHECK(c.listeners[1].port == 5349);                    // the (D)TLS default when no port is given
  CHECK(c.listeners[1].cert == "/etc/tw/tls/cert.pem");  // relative to the config file
  CHECK(c.listeners[1].key == "/etc/tw/key.pem");
  CHECK(c.listeners[2].transport == tw::Transport::Tcp);  // same port as udp: other socket type

  REQUIRE(c.relay.addresses.size() == 2);
  CHECK(c.relay.addresses[1] == *tw::IpAddress::parse("2001:db8::10"));
  CHECK(c.relay.externalAddress == tw::IpAddress::parse("198.51.100.7"));
  CHECK(c.relay.portMin == 50000);
  CHECK(c.relay.portMax == 50999);

  REQUIRE(c.auth.secrets.size() == 2);
  CHECK(c.auth.secrets[0].id == "k2");
  CHECK(c.auth.secrets[0].value == "0123456789abcdef0123456789abcdef");
  CHECK_FALSE(c.auth.secrets[0].notAfter);
  CHECK(c.auth.secrets[1].id == "k1.old");
  CHECK(c.auth.secrets[1].notAfter == 1767225600);
  CHECK(c.auth.secretsFile.empty());
  CHECK(c.auth.maxTtlSeconds == 12 * 3600);
  CHECK(c.auth.clockSkewSeconds == 30);
  CHECK(c.auth.nonceLifetime == 90s);
  REQUIRE(c.auth.users.size() == 1);
  CHECK(c.auth.users[0].name == "alice");
  CHECK(c.auth.users[0].key[0] == 0x00);
  CHECK(c.auth.users[0].key[1] == 0x11);
  CHECK(c.auth.users[0].key[15] == 0xff);

  REQUIRE(c.peers.allowed.size() == 2);
  CHECK(c.peers.allowed[0].text == "10.1.2.3");
  CHECK(c.peers.allowed[0].range.contains(*tw::IpAddress::parse("10.1.2.3")));
  CHECK_FALSE(c.peers.allowed[0].range.contains(*tw::IpAddress::parse("10.1.2.4")));
  CHECK_FALSE(c.peers.allowed[0].ports);
  CHECK(c.peers.allowed[1].range.contains(*tw::IpAddress::parse("10.2.255.255")));
  CHECK(c.peers.allowed[1].ports == std::pair<uint16_t, uint16_t>{10000, 20000});
  REQUIRE(c.peers.denied.size() == 2);
  CHECK(c.peers.denied[1].range.contains(*tw::IpAddress::parse("198.51.100.9")));
  CHECK_FALSE(c.peers.denied[1].range.contains(*tw::IpAddress::parse("198.51.100.10")));
  CHECK_FALSE(c.peers.defaultDeny);

  CHECK(c.limits.maxAllocationLifetime == 2h);
  CHECK(c.limits.defaultAllocationLifetime == 10min);
  CHECK(c.limits.channelNumbers == ChannelNumbers::Rfc8656);
  CHECK(c.limits.channelMax() == 0x4FFF);
  CHECK(c.limits.permissionsPerRequest == 8);
  CHECK(c.limits.permissionsPerAllocation == 64);
  CHECK(c.limits.channelsPerAllocation == 100);
  CHECK(c.log.level == tw::LogLevel::Debug);
  CHECK(c.server.software == "turnwarden test");
}

TEST_CASE("omitted keys take the documented secure defaults", "[config]") {
  auto r = parseConfig(minimal(), kFile);
  REQUIRE(r.ok());
  const Config& c = r.value();
  REQUIRE(c.listeners.size() == 1);
  CHECK(c.listeners[0].transport == tw::Transport::Udp);
  CHECK(c.listeners[0].address.toString() == "127.0.0.1");
  CHECK(c.listeners[0].port == 3478);
  REQUIRE(c.relay.addresses.size() == 1);
  CHECK(c.relay.addresses[0].toString() == "127.0.0.1");
  CHECK_FALSE(c.relay.externalAddress);
  CHECK(c.relay.portMin == 49152);
  CHECK(c.relay.portMax == 65535);
  CHECK(c.auth.maxTtlSeconds == 86400);
  CHECK(c.auth.clockSkewSeconds == 300);
  CHECK(c.auth.nonceLifetime == 10min);
  CHECK(c.auth.users.empty());
  CHECK(c.peers.allowed.empty());
  CHECK(c.peers.denied.empty());
  CHECK(c.peers.defaultDeny);
  CHECK(c.limits.maxAllocationLifetime == 1h);
  CHECK(c.limits.defaultAllocationLifetime == 10min);
  CHECK(c.limits.channelNumbers == ChannelNumbers::Rfc5766);
  CHECK(c.limits.channelMin() == 0x4000);
  CHECK(c.limits.channelMax() == 0x7FFF);
  CHECK(c.limits.permissionsPerRequest == 16);
  CHECK(c.limits.permissionsPerAllocation == 32);
  CHECK(c.limits.channelsPerAllocation == 32);
  CHECK(c.log.level == tw::LogLevel::Info);
  CHECK_FALSE(c.server.software);
}

TEST_CASE("ConfigError::format prints FILE:LINE:COL or FILE alone", "[config]") {
  CHECK(ConfigError{"a.yaml", 3, 7, "bad"}.format() == "a.yaml:3:7: bad");
  CHECK(ConfigError{"a.yaml", 0, 0, "unreadable"}.format() == "a.yaml: unreadable");
  CHECK(formatErrors({{"a", 1, 2, "x"}, {"b", 0, 0, "y"}}) == "a:1:2: x\nb: y\n");
}

TEST_CASE("unknown keys are reported at every level with a suggestion", "[config]") {
  expectErrorAt(minimal("listners: []\n"), 5, 1, "unknown key 'listners' (did you mean 'listeners'?)");
  expectErrorAt(minimal("relay:\n  adresses: [127.0.0.1]\n"), 6, 3,
                "relay: unknown key 'adresses' (did you mean 'addresses'?)");
  expectErrorAt(minimal("listeners:\n  - {transprot: udp, address: 127.0.0.1}\n"), 6, 6,
                "listeners[0]: unknown key 'transprot' (did you mean 'transport'?)");
  expectErrorAt(
      "realm: r\nauth:\n  secrets:\n    - {id: k1, value: \"" + std::string(kSecret) + "\", notafter: 5}\n",
      4, 59, "auth.secrets[0]: unknown key 'notafter' (did you mean 'not_after'?)");
  auto errors = errorsOf(minimal("colour: blue\n"));
  ConfigError e = errorWith(errors, "unknown key 'colour'");
  CHECK(e.message.find("did you mean") == std::string::npos);  // nothing close
}

TEST_CASE("a duplicate key is an error, not a silent override", "[config]") {
  expectErrorAt(minimal("log: {level: info}\nlog: {level: debug}\n"), 6, 1, "log: duplicate key");
}

TEST_CASE("wrong value types name the key and the position", "[config]") {
  expectErrorAt(minimal("listeners:\n  - {address: 127.0.0.1, port: abc}\n"), 6, 32,
                "listeners[0].port: expected an integer 1-65535, got 'abc'");
  expectErrorAt(minimal("relay:\n  addresses: 5\n"), 6, 14, "relay.addresses: expected a list, got a scalar");
  expectErrorAt(minimal("peers:\n  default_deny: maybe\n"), 6, 17,
                "peers.default_deny: expected true or false");
  expectErrorAt(minimal("relay: [a, b]\n"), 5, 8, "relay: expected a map of keys, got a list");
  expectErrorAt(minimal("relay:\n  addresses: [127.0.0.1, {a: 1}]\n"), 6, 26,
                "relay.addresses[1]: expected an IPv4 or IPv6 address, got a map");
  expectErrorAt(minimal("relay:\n  addresses: [localhost]\n"), 6, 15,
                "relay.addresses[0]: expected an IPv4 or IPv6 address, got 'localhost'");
}

TEST_CASE("an empty value is blamed on its key's line", "[config]") {
  expectErrorAt(minimal("log:\n  level:\nserver: {}\n"), 6, 3,
                "log.level: expected a string, got nothing (null)");
}

TEST_CASE("listener ports outside 1-65535 are refused", "[config]") {
  expectErrorAt(minimal("listeners:\n  - {address: 127.0.0.1, port: 70000}\n"), 6, 32,
                "listeners[0].port: expected an integer 1-65535, got '70000'");
  expectErrorAt(minimal("listeners:\n  - {address: 127.0.0.1, port: 0}\n"), 6, 32, "got '0'");
  expectErrorAt(minimal("listeners:\n  - {address: 127.0.0.1, port: -1}\n"), 6, 32, "got '-1'");
}

TEST_CASE("relay port_range must be a non-empty LOW-HIGH within 1-65535", "[config]") {
  auto at = [](const std::string& value) { return minimal("relay:\n  port_range: " + value + "\n"); };
  expectErrorAt(at("\"\""), 6, 15, "relay.port_range: expected a port range LOW-HIGH within 1-65535, got ''");
  expectErrorAt(at("60000-50000"), 6, 15, "relay.port_range: port range '60000-50000' is inverted");
  expectErrorAt(at("abc"), 6, 15, "got 'abc'");
  expectErrorAt(at("1-2-3"), 6, 15, "got '1-2-3'");
  expectErrorAt(at("0-100"), 6, 15, "got '0-100'");
  expectErrorAt(at("1000-70000"), 6, 15, "got '1000-70000'");
  expectErrorAt(at("[1, 2]"), 6, 15, "expected a port range LOW-HIGH within 1-65535, got a list");
  auto single = parseConfig(at("50000"), kFile);
  REQUIRE(single.ok());
  CHECK(single->relay.portMin == 50000);
  CHECK(single->relay.portMax == 50000);
}

TEST_CASE("bad peer ranges carry IpRange's explanation", "[config]") {
  auto text = minimal("peers:\n  allowed:\n    - 10.0.0.0/8\n    - 10.0.0.0/33\n");
  auto errors = errorsOf(text);
  ConfigError e = errorWith(errors, "peers.allowed[1]: bad address range '10.0.0.0/33'");
  CHECK(e.line == 8);
  CHECK(e.column == 7);
  auto parsed = IpRange::parse("10.0.0.0/33");
  REQUIRE_FALSE(parsed.ok());
  CHECK(e.message.find(parsed.error()) != std::string::npos);

  expectErrorAt(minimal("peers:\n  denied: [{range: 10.9.9.9-10.0.0.1}]\n"), 6, 20,
                "peers.denied[0].range: bad address range '10.9.9.9-10.0.0.1'");
  expectErrorAt(minimal("peers:\n  denied: [{range: 10.0.0.0/8, ports: 9-1}]\n"), 6, 39,
                "peers.denied[0].ports: port range '9-1' is inverted");
  expectErrorAt(minimal("peers:\n  denied: [{ports: 1-2}]\n"), 6, 12,
                "peers.denied[0]: missing required key 'range'");
}

TEST_CASE("a config without any REST secret is refused", "[config]") {
  expectErrorAt("realm: r\n", 1, 1, "no REST API secret: set auth.secrets or auth.secrets_file");
  expectErrorAt("realm: r\nauth:\n  max_ttl: 1h\n", 3, 3, "no REST API secret");
  expectErrorAt("realm: r\nauth:\n  secrets: []\n", 3, 12, "auth.secrets: the keyring is empty");
  expectErrorAt("realm: r\nauth:\n  secrets_file: null\n", 3, 3, "no REST API secret");
}

TEST_CASE("secrets and secrets_file together are ambiguous", "[config]") {
  expectErrorAt(minimal("  secrets_file: keys.yaml\n"), 5, 17,
                "auth.secrets_file: set either auth.secrets or auth.secrets_file, not both");
}

TEST_CASE("secret ids must be present, valid and unique", "[config]") {
  auto secrets = [](const std::string& entries) { return "realm: r\nauth:\n  secrets:\n" + entries; };
  std::string v1 = "value: \"" + std::string(kSecret) + "\"";
  std::string v2 = "value: \"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345\"";
  expectErrorAt(secrets("    - {id: \"\", " + v1 + "}\n"), 4, 12,
                "auth.secrets[0].id: secret id must not be empty");
  expectErrorAt(secrets("    - {" + v1 + "}\n"), 4, 7, "auth.secrets[0]: missing required key 'id'");
  expectErrorAt(secrets("    - {id: k1, " + v1 + "}\n    - {id: k1, " + v2 + "}\n"), 5, 12,
                "auth.secrets[1].id: duplicate secret id 'k1' (also auth.secrets[0])");
  expectErrorAt(secrets("    - {id: \"a b\", " + v1 + "}\n"), 4, 12, "may only contain letters");
  expectErrorAt(secrets("    - {id: k1, " + v1 + "}\n    - {id: k2, " + v1 + "}\n"), 5, 23,
                "auth.secrets[1].value: same secret value as auth.secrets[0]");
  // A repeat is reported even when the first entry has problems of its own.
  expectErrorAt(secrets("    - {id: k1, value: short}\n    - {id: k1, " + v2 + "}\n"), 5, 12,
                "auth.secrets[1].id: duplicate secret id 'k1' (also auth.secrets[0])");
  expectErrorAt(secrets("    - {id: k1, " + v1 + ", not_after: soon}\n"), 4, 70,
                "auth.secrets[0].not_after: expected an integer");
}

TEST_CASE("secrets shorter than 16 bytes are refused", "[config]") {
  expectErrorAt("realm: r\nauth:\n  secrets:\n    - {id: k1, value: fifteen-bytes!!}\n", 4, 23,
                "auth.secrets[0].value: secret value is shorter than 16 bytes");
  auto ok = parseConfig("realm: r\nauth:\n  secrets:\n    - {id: k1, value: sixteen-bytes!!!}\n", kFile);
  CHECK(ok.ok());
}

TEST_CASE("secret values and user keys never appear in error messages", "[config][secrets]") {
  const std::string shortValue = "TOPSECRET-short";  // 15 bytes
  const std::string value = "TOPSECRET-0123456789abcdef";
  const std::string userKey = "SECRETKEY0112233445566778899aabbc";  // not hex, 33 chars
  std::string yaml =
      "realm: r\nauth:\n  secrets:\n"
      "    - {id: k1, value: \"" +
      shortValue +
      "\"}\n"
      "    - {id: k2, value: \"" +
      value +
      "\", extra: 1}\n"
      "    - {id: k3, value: \"" +
      value +
      "\"}\n"
      "    - {id: k4, value: \"" +
      value +
      "\"}\n"
      "    - {id: \"bad id\", value: \"" +
      value +
      "\"}\n"
      "    - {id: k5, value: [\"" +
      value +
      "\"]}\n"
      "  users:\n    - {name: bob, key: \"" +
      userKey +
      "\"}\n"
      "  max_ttl: forever\n";
  auto errors = errorsOf(yaml);
  CHECK(errors.size() >= 6);
  std::string text = formatErrors(errors);
  INFO(text);
  CHECK(text.find("TOPSECRET") == std::string::npos);
  CHECK(text.find("SECRETKEY") == std::string::npos);
  // max_ttl is not a secret field, so an operator sees what was wrong there.
  CHECK(errorWith(errors, "auth.max_ttl").line == 12);
}

TEST_CASE("durations are validated where they are used", "[config]") {
  expectErrorAt(minimal("  max_ttl: 1 day\n"), 5, 12, "auth.max_ttl: expected a duration such as 250ms");
  expectErrorAt(minimal("  max_ttl: 1500ms\n"), 5, 12, "auth.max_ttl: must be whole seconds, got 1s500ms");
  expectErrorAt(minimal("  nonce_lifetime: 0s\n"), 5, 19,
                "auth.nonce_lifetime: duration '0s' is below the minimum of 1s");
  expectErrorAt(minimal("limits:\n  max_allocation_lifetime: -5m\n"), 6, 28, "got '-5m'");
}

TEST_CASE("limits are checked against each other", "[config]") {
  expectErrorAt(minimal("limits:\n  max_allocation_lifetime: 5m\n"), 6, 28,
                "limits.max_allocation_lifetime: default_allocation_lifetime (10m) exceeds "
                "max_allocation_lifetime (5m)");
  expectErrorAt(minimal("limits:\n  max_allocation_lifetime: 5m\n  default_allocation_lifetime: 6m\n"), 7, 32,
                "limits.default_allocation_lifetime: default_allocation_lifetime (6m) exceeds");
  expectErrorAt(
      minimal("limits:\n  permissions_per_request: 40\n"), 6, 28,
      "limits.permissions_per_request: permissions_per_request (40) exceeds permissions_per_allocation (32)");
  expectErrorAt(minimal("limits:\n  channel_numbers: rfc8656\n  channels_per_allocation: 5000\n"), 7, 28,
                "channels_per_allocation (5000) exceeds the 4096 channel numbers");
  expectErrorAt(
      minimal("limits:\n  channel_numbers: rfc9999\n"), 6, 20,
      "limits.channel_numbers: unknown channel number range 'rfc9999' (expected rfc5766 or rfc8656)");
  expectErrorAt(minimal("limits:\n  channels_per_allocation: 0\n"), 6, 28,
                "expected an integer 1-16384, got '0'");
}

TEST_CASE("listener transports, TLS material and duplicates are checked", "[config]") {
  expectErrorAt(minimal("listeners:\n  - {transport: sctp, address: 127.0.0.1}\n"), 6, 17,
                "listeners[0].transport: unknown transport 'sctp' (expected udp, tcp, tls or dtls)");
  expectErrorAt(minimal("listeners:\n  - {transport: tls, address: 127.0.0.1, key: k.pem}\n"), 6, 5,
                "listeners[0]: a tls listener needs both cert: and key:");
  expectErrorAt(minimal("listeners:\n  - {transport: dtls, address: 127.0.0.1}\n"), 6, 5,
                "listeners[0]: a dtls listener needs both cert: and key:");
  expectErrorAt(minimal("listeners:\n  - {transport: udp, address: 127.0.0.1, cert: c.pem}\n"), 6, 48,
                "listeners[0].cert: cert only applies to tls and dtls listeners, not udp");
  expectErrorAt(
      minimal("listeners:\n  - {address: 127.0.0.1}\n  - {transport: dtls, address: 127.0.0.1, port: 3478,"
              " cert: c, key: k}\n"),
      7, 5, "listeners[1]: same address, port and socket type as listeners[0]");
  expectErrorAt(minimal("listeners:\n  - {port: 3478}\n"), 6, 5,
                "listeners[0]: missing required key 'address'");
  expectErrorAt(minimal("listeners: []\n"), 5, 12, "listeners: at least one listener is required");
}

TEST_CASE("relay addresses must be concrete and consistent", "[config]") {
  expectErrorAt(minimal("relay:\n  addresses: [0.0.0.0]\n"), 6, 15,
                "relay.addresses[0]: must be a concrete address");
  expectErrorAt(minimal("relay:\n  addresses: [\"::\"]\n"), 6, 15, "must be a concrete address");
  expectErrorAt(minimal("relay:\n  addresses: [127.0.0.1, 127.0.0.1]\n"), 6, 26,
                "relay.addresses[1]: duplicate relay address 127.0.0.1");
  expectErrorAt(minimal("relay:\n  addresses: []\n"), 6, 14,
                "relay.addresses: at least one relay address is required");
  expectErrorAt(minimal("relay:\n  external_address: \"2001:db8::1\"\n"), 6, 21,
                "relay.external_address: no relay address of the same IP family");
}

TEST_CASE("realm, static users, log level and SOFTWARE are validated", "[config]") {
  expectErrorAt("auth: {secrets_file: s.yaml}\n", 1, 1, "missing required key 'realm'");
  expectErrorAt("realm: \"a\\\"b\"\nauth: {secrets_file: s.yaml}\n", 1, 8,
                "realm: realm must be 1-127 printable ASCII");
  expectErrorAt(
      minimal("  users:\n    - {name: \"1700000000:bob\", key: 00112233445566778899aabbccddeeff}\n"), 6, 14,
      "auth.users[0].name: user name must be 1-512 printable ASCII characters without spaces or ':'");
  expectErrorAt(minimal("  users:\n    - {name: bob, key: 0011}\n"), 6, 24,
                "auth.users[0].key: key must be 32 hex digits");
  expectErrorAt(minimal("  users:\n    - {name: bob, key: 00112233445566778899aabbccddeeff}\n"
                        "    - {name: bob, key: 00112233445566778899aabbccddeeff}\n"),
                7, 14, "auth.users[1].name: duplicate user 'bob' (also auth.users[0])");
  expectErrorAt(minimal("log: {level: verbose}\n"), 5, 14, "log.level: unknown log level 'verbose'");
  expectErrorAt(minimal("server: {software: \"\"}\n"), 5, 20, "server.software: SOFTWARE text must be 1-127");
}

TEST_CASE("YAML syntax errors are reported as FILE:LINE:COL", "[config]") {
  // An unclosed flow list is only noticed at the end of the input.
  expectErrorAt("realm: r\nlisteners: [1,\n  b: 2\n", 4, 1,
                "YAML syntax error: end of sequence flow not found");
  expectErrorAt("realm: a: b\n", 1, 9, "YAML syntax error: illegal map value");
  // The error points at the second document's "---".
  expectErrorAt("realm: r\n---\nrealm: s\n", 2, 1, "only one YAML document is allowed");
  expectErrorAt("", 1, 1, "the configuration is empty");
  expectErrorAt("# nothing\n", 1, 1, "the configuration is empty");
  expectErrorAt("- realm\n", 1, 1, "expected a map of keys, got a list");
}

TEST_CASE("malformed YAML that sent yaml-cpp's LoadAll into an endless loop is refused at once", "[config]") {
  // Found by the config_yaml fuzz target: LoadAll allocated a new document per
  // turn on this input (1.2 GB in 10 s) and never returned.
  const auto errors = errorsOf(",.00 porp: 534\n");
  REQUIRE_FALSE(errors.empty());
  CHECK(errors.front().file == kFile);
  CHECK(errors.front().line == 1);
}

TEST_CASE("every problem in a file is reported in one pass", "[config]") {
  std::string yaml =
      "realm: r\n"                                   // 1
      "listners: []\n"                               // 2
      "listeners:\n"                                 // 3
      "  - {transport: quic, address: 127.0.0.1}\n"  // 4
      "  - {address: 127.0.0.1, port: 99999}\n"      // 5
      "relay:\n"                                     // 6
      "  addresses: 5\n"                             // 7
      "  port_range: 9-1\n"                          // 8
      "peers:\n"                                     // 9
      "  allowed: [10.0.0.0/99]\n"                   // 10
      "limits:\n"                                    // 11
      "  default_allocation_lifetime: forever\n";    // 12
  auto errors = errorsOf(yaml);
  INFO(formatErrors(errors));
  CHECK(errorWith(errors, "unknown key 'listners'").line == 2);
  CHECK(errorWith(errors, "unknown transport 'quic'").line == 4);
  CHECK(errorWith(errors, "listeners[1].port").line == 5);
  CHECK(errorWith(errors, "relay.addresses").line == 7);
  CHECK(errorWith(errors, "relay.port_range").line == 8);
  CHECK(errorWith(errors, "peers.allowed[0]").line == 10);
  CHECK(errorWith(errors, "limits.default_allocation_lifetime").line == 12);
  CHECK(errorWith(errors, "no REST API secret").line == 1);
  CHECK(errors.size() == 8);
}

TEST_CASE("relative paths resolve against the config file's directory", "[config]") {
  auto r =
      parseConfig("realm: r\nauth:\n  secrets_file: ../keys/./secrets.yaml\n", "/srv/tw/etc/turnwarden.yaml");
  REQUIRE(r.ok());
  CHECK(r->auth.secretsFile == "/srv/tw/keys/secrets.yaml");
  CHECK(r->auth.secrets.empty());  // parseConfig never reads the file system
  auto abs = parseConfig("realm: r\nauth:\n  secrets_file: /var/lib/tw/keys.yaml\n", "tw.yaml");
  REQUIRE(abs.ok());
  CHECK(abs->auth.secretsFile == "/var/lib/tw/keys.yaml");
  auto rel = parseConfig("realm: r\nauth:\n  secrets_file: keys.yaml\n", "tw.yaml");
  REQUIRE(rel.ok());
  CHECK(rel->auth.secretsFile == (std::filesystem::current_path() / "keys.yaml").string());
}

TEST_CASE("the shipped etc/turnwarden.yaml passes validation", "[config]") {
  const std::string path = std::string(TW_SOURCE_DIR) + "/etc/turnwarden.yaml";
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  auto r = parseConfig(text.str(), path);
  INFO((r.ok() ? "" : formatErrors(r.error())));
  REQUIRE(r.ok());
  const Config& c = r.value();
  CHECK(c.realm == "turnwarden.local");
  REQUIRE(c.listeners.size() == 1);
  CHECK(c.listeners[0].address.toString() == "127.0.0.1");
  CHECK(c.listeners[0].port == 3478);
  CHECK(c.listeners[0].transport == tw::Transport::Udp);
  REQUIRE(c.relay.addresses.size() == 1);
  CHECK(c.relay.addresses[0].toString() == "127.0.0.1");
  CHECK(c.auth.secretsFile == std::string(TW_SOURCE_DIR) + "/etc/secrets.yaml");
  CHECK(c.auth.secrets.empty());
  CHECK(c.peers.defaultDeny);
  CHECK(c.peers.allowed.empty());
  CHECK_FALSE(c.server.software);

  // The same file loaded from disk, in a fresh directory: the keyring does
  // not exist yet, which is not an error; once generated it is loaded.
  TempDir dir;
  std::string copy = dir.write("etc/turnwarden.yaml", text.str());
  auto first = loadConfig(copy);
  INFO((first.ok() ? "" : formatErrors(first.error())));
  REQUIRE(first.ok());
  CHECK(first->auth.secrets.empty());
  CHECK(first->auth.secretsFile == dir.path + "/etc/secrets.yaml");
  tw::SeededRandom rng(1);
  auto generated = generateSecretsFile(first->auth.secretsFile, rng, 1'700'000'000);
  REQUIRE(generated.ok());
  auto second = loadConfig(copy);
  REQUIRE(second.ok());
  REQUIRE(second->auth.secrets.size() == 1);
  CHECK(second->auth.secrets[0].value == generated->front().value);
}

TEST_CASE("loadConfig refuses a group-readable or malformed secrets file, naming it", "[config][secrets]") {
  TempDir dir;
  std::string config = dir.write("tw.yaml", "realm: r\nauth:\n  secrets_file: keys/secrets.yaml\n");
  std::string body = "secrets:\n  - {id: k1, value: \"" + std::string(kSecret) + "\"}\n";
  std::string keys = dir.write("keys/secrets.yaml", body, 0640);

  auto readable = loadConfig(config);
  REQUIRE_FALSE(readable.ok());
  ConfigError e = errorWith(readable.error(), "group/other");
  CHECK(e.file == keys);
  CHECK(e.format().rfind(keys + ": ", 0) == 0);
  CHECK(e.message.find("0640") != std::string::npos);
  CHECK(formatErrors(readable.error()).find(kSecret) == std::string::npos);

  dir.write("keys/secrets.yaml", "secrets:\n  - {id: k1, value: [\n", 0600);
  auto malformed = loadConfig(config);
  REQUIRE_FALSE(malformed.ok());
  CHECK(malformed.error().front().file == keys);
  CHECK(malformed.error().front().line == 3);

  dir.write("keys/secrets.yaml", body, 0600);
  auto good = loadConfig(config);
  REQUIRE(good.ok());
  REQUIRE(good->auth.secrets.size() == 1);
  CHECK(good->auth.secrets[0].id == "k1");
}

TEST_CASE("loadConfigText loads the keyring next to a built-in config", "[config][secrets]") {
  TempDir dir;
  std::string name = dir.path + "/turnwarden.yaml";  // never written: the text is built in
  std::string text = "realm: r\nauth: {secrets_file: secrets.yaml}\n";
  auto before = loadConfigText(text, name);
  REQUIRE(before.ok());
  CHECK(before->auth.secrets.empty());
  tw::SeededRandom rng(9);
  REQUIRE(generateSecretsFile(before->auth.secretsFile, rng, 0).ok());
  auto after = loadConfigText(text, name);
  REQUIRE(after.ok());
  CHECK(after->auth.secrets.size() == 1);
  CHECK(parseConfig(text, name)->auth.secrets.empty());  // parseConfig stays pure
}

TEST_CASE("loadConfig checks file-system facts with positions", "[config]") {
  TempDir dir;
  std::string config = dir.write("tw.yaml", minimal("listeners:\n  - {transport: tls, address: 127.0.0.1,"
                                                    " cert: missing.pem, key: key.pem}\n"));
  dir.write("key.pem", "not really a key", 0600);
  auto r = loadConfig(config);
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.error().size() == 1);
  ConfigError e = r.error().front();
  CHECK(e.file == config);
  CHECK(e.line == 6);
  CHECK(e.column == 48);
  CHECK(e.message ==
        "listeners[0].cert: file '" + dir.path + "/missing.pem' does not exist or is not a regular file");

  auto missing = loadConfig(dir.path + "/nope.yaml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().front().format().rfind(dir.path + "/nope.yaml: cannot read the configuration", 0) ==
        0);
  auto directory = loadConfig(dir.path);
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.error().front().message.find("not a regular file") != std::string::npos);
}
