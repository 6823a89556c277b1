#include "relay/http/metrics_service.h"

#include <catch2/catch.hpp>
#include <thread>

#include "tests/support/http_client.h"

namespace tw::http {
namespace {

using tw::testing::httpGet;
using tw::testing::httpRequest;

TEST_CASE("the metrics listener serves /metrics, /healthz and /readyz on loopback") {
  metrics::MetricsFolder folder("9.9.9");
  MetricsService service(folder, std::chrono::milliseconds(20));
  std::atomic<int> collected{0};
  service.addCollector([&] { ++collected; });
  REQUIRE(service.start(*SocketAddress::parse("127.0.0.1:0")).ok());
  const SocketAddress at = *service.address();
  REQUIRE(at.port != 0);

  auto m = httpGet(at, "/metrics");
  REQUIRE(m);
  CHECK(m->status == 200);
  CHECK(m->headers.find("text/plain; version=0.0.4") != std::string::npos);
  CHECK(m->body.find("turnwarden_build_info{version=\"9.9.9\"} 1") != std::string::npos);
  CHECK(httpGet(at, "/healthz")->status == 200);

  CHECK(httpGet(at, "/readyz")->status == 503);  // listeners not up yet
  service.setReady(true);
  CHECK(httpGet(at, "/readyz")->status == 200);
  service.setDraining(true);
  CHECK(httpGet(at, "/readyz")->status == 503);

  auto unknown = httpGet(at, "/nope");
  CHECK(unknown->status == 404);
  CHECK(unknown->body.find("\"error\"") != std::string::npos);
  CHECK(httpRequest(at, "POST", "/metrics")->status == 405);

  for (int i = 0; i < 200 && collected < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(collected >= 2);
  service.stop();
  CHECK_FALSE(httpGet(at, "/healthz"));
}

TEST_CASE("an oversized request body gets 400, not a crash") {
  metrics::MetricsFolder folder("1");
  MetricsService service(folder);
  REQUIRE(service.start(*SocketAddress::parse("127.0.0.1:0")).ok());
  auto r = httpRequest(*service.address(), "POST", "/metrics", {}, std::string(200 * 1024, 'x'));
  REQUIRE(r);
  CHECK(r->status == 400);
}

TEST_CASE("a port that is taken is reported, not fatal") {
  metrics::MetricsFolder folder("1");
  MetricsService first(folder);
  REQUIRE(first.start(*SocketAddress::parse("127.0.0.1:0")).ok());
  MetricsService second(folder);
  auto st = second.start(*first.address());
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().find(first.address()->toString()) != std::string::npos);
}

}  // namespace
}  // namespace tw::http
