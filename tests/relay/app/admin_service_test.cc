// GET /admin/bans as the admin service writes it: bans are per source
// address, so two guessers behind one NAT IP are two entries.
#include "relay/app/admin_service.h"

#include <algorithm>
#include <catch2/catch.hpp>

namespace tw::app {
namespace {

TEST_CASE("admin bans: each ban is listed by its source address, IP and port apart") {
  const Instant now{std::chrono::seconds(1000)};
  turn::BanTable table(SipKey{7});
  const policy::BansConfig cfg{2, std::chrono::minutes(1), std::chrono::minutes(10)};
  for (const char* source : {"192.0.2.1:1000", "192.0.2.1:2000", "[2001:db8::1]:3000"}) {
    for (int i = 0; i < 3; ++i) table.recordFailure(*SocketAddress::parse(source), now, cfg);
  }
  auto bans = table.list(now);
  std::sort(bans.begin(), bans.end(), [](const auto& a, const auto& b) { return a.port < b.port; });
  const std::string later = bansJson(bans, now + std::chrono::seconds(60));
  CHECK(later ==
        "{\"bans\":["
        "{\"source\":\"192.0.2.1:1000\",\"ip\":\"192.0.2.1\",\"port\":1000,\"remaining_seconds\":540,"
        "\"failures\":3},"
        "{\"source\":\"192.0.2.1:2000\",\"ip\":\"192.0.2.1\",\"port\":2000,\"remaining_seconds\":540,"
        "\"failures\":3},"
        // An IPv6 source is banned as its /64 (ipv6_client_prefix) and listed by its first address.
        "{\"source\":\"[2001:db8::]:3000\",\"ip\":\"2001:db8::\",\"port\":3000,\"remaining_seconds\":540,"
        "\"failures\":3}"
        "]}\n");
  CHECK(bansJson({}, now) == "{\"bans\":[]}\n");
}

}  // namespace
}  // namespace tw::app
