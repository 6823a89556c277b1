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
