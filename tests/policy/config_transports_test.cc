#include <catch2/catch.hpp>

#include "policy/config.h"

using namespace tw::policy;
using namespace std::chrono_literals;

namespace {

std::string withTransports(const std::string& section) {
  return "realm: r.test\n"
         "auth:\n  secrets:\n    - {id: k1, value: \"0123456789abcdef0123456789abcdef\"}\n" +
         section;
}

}  // namespace

TEST_CASE("transports: defaults when the section is absent", "[config]") {
  auto c = parseConfig(withTransports(""), "t.yaml");
  REQUIRE(c.ok());
  CHECK(c->transports.maxConnectionsPerIp == 64);
  CHECK(c->transports.streamBufferBytes == 16384);
  CHECK(c->transports.streamOutputBytes == 262144);
  CHECK(c->transports.idleTimeout == 30s);
  CHECK(c->transports.handshakeTimeout == 10s);
}

TEST_CASE("transports: every key is read", "[config]") {
  auto c = parseConfig(withTransports("transports:\n"
                                      "  max_connections_per_ip: 8\n"
                                      "  stream_buffer_bytes: 4096\n"
                                      "  stream_output_bytes: 65536\n"
                                      "  idle_timeout: 2m\n"
                                      "  handshake_timeout: 5s\n"),
                       "t.yaml");
  REQUIRE(c.ok());
  CHECK(c->transports.maxConnectionsPerIp == 8);
  CHECK(c->transports.streamBufferBytes == 4096);
  CHECK(c->transports.streamOutputBytes == 65536);
  CHECK(c->transports.idleTimeout == 2min);
  CHECK(c->transports.handshakeTimeout == 5s);
}

TEST_CASE("transports: bad values are reported with FILE:LINE:COL", "[config]") {
  auto c = parseConfig(withTransports("transports:\n"
                                      "  max_connections_per_ip: 0\n"
                                      "  stream_buffer_bytes: 100\n"
                                      "  idle_timout: 5s\n"),
                       "t.yaml");
  REQUIRE_FALSE(c.ok());
  const std::string text = formatErrors(c.error());
  CHECK(text.find("t.yaml:6:27") != std::string::npos);   // max_connections_per_ip: 0
  CHECK(text.find("t.yaml:7:24") != std::string::npos);   // stream_buffer_bytes below 548
  CHECK(text.find("idle_timeout") != std::string::npos);  // "did you mean"
  CHECK(c.error().size() == 3);
}

TEST_CASE("trusted_proxies: addresses, CIDRs and ranges reach transports and credentials", "[config]") {
  auto c = parseConfig(
      withTransports("trusted_proxies: [10.0.0.0/8, 192.0.2.7, \"2001:db8::/32\"]\n"
                     "listeners:\n"
                     "  - {transport: tcp, address: 127.0.0.1, port: 3478, proxy_protocol: true}\n"
                     "  - {transport: udp, address: 127.0.0.1, port: 3478}\n"),
      "t.yaml");
  REQUIRE(c.ok());
  const auto& tp = c->transports.trustedProxies;
  REQUIRE(tp.ranges.size() == 3);
  CHECK(tp.contains(tw::IpAddress::v4(10, 9, 8, 7)));
  CHECK(tp.contains(tw::IpAddress::v4(192, 0, 2, 7)));
  CHECK_FALSE(tp.contains(tw::IpAddress::v4(192, 0, 2, 8)));
  CHECK(tp.contains(*tw::IpAddress::parse("2001:db8::5")));
  CHECK(c->credentials.trustedProxies == tp);
  CHECK(c->listeners[0].proxyProtocol);
  CHECK_FALSE(c->listeners[1].proxyProtocol);
}

TEST_CASE("trusted_proxies: defaults to nobody, and listeners to no PROXY header", "[config]") {
  auto c = parseConfig(withTransports(""), "t.yaml");
  REQUIRE(c.ok());
  CHECK(c->transports.trustedProxies.empty());
  CHECK(c->credentials.trustedProxies.empty());
  CHECK_FALSE(c->listeners[0].proxyProtocol);
}

TEST_CASE("trusted_proxies: bad entries and misplaced proxy_protocol are errors", "[config]") {
  auto c = parseConfig(
      withTransports("trusted_proxies: [10.1.2.3/8, nonsense, 0.0.0.0/0, \"::/0\"]\n"
                     "listeners:\n"
                     "  - {transport: udp, address: 127.0.0.1, port: 3478, proxy_protocol: true}\n"
                     "  - {transport: tls, address: 127.0.0.1, port: 5349, proxy_protocol: maybe,\n"
                     "     cert: /c.pem, key: /k.pem}\n"),
      "t.yaml");
  REQUIRE_FALSE(c.ok());
  const std::string text = formatErrors(c.error());
  INFO(text);
  CHECK(text.find("t.yaml:5:19: trusted_proxies[0]: bad address range '10.1.2.3/8'") != std::string::npos);
  CHECK(text.find("t.yaml:5:31: trusted_proxies[1]: bad address range 'nonsense'") != std::string::npos);
  CHECK(text.find("trusted_proxies[2]: '0.0.0.0/0' trusts every address") != std::string::npos);
  CHECK(text.find("trusted_proxies[3]: '::/0' trusts every address") != std::string::npos);
  CHECK(text.find("proxy_protocol only applies to tcp and tls listeners, not udp") != std::string::npos);
  CHECK(text.find("t.yaml:7:") != std::string::npos);  // "maybe" is not a boolean
}

TEST_CASE("trusted_proxies: a listener with proxy_protocol needs them", "[config]") {
  auto c = parseConfig(
      withTransports("listeners:\n"
                     "  - {transport: tcp, address: 127.0.0.1, port: 3478, proxy_protocol: true}\n"),
      "t.yaml");
  REQUIRE_FALSE(c.ok());
  CHECK(formatErrors(c.error()).find(
            "tcp 127.0.0.1:3478 has proxy_protocol: true but trusted_proxies is empty") != std::string::npos);
}
