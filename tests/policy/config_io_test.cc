#include <catch2/catch.hpp>

#include "policy/config.h"
#include "policy/reload.h"

using namespace tw::policy;

namespace {

tw::Result<Config, std::vector<ConfigError>> withIo(const std::string& section) {
  return parseConfig("realm: r.test\n"
                     "auth:\n  secrets:\n    - {id: k1, value: \"0123456789abcdef0123456789abcdef\"}\n" +
                         section,
                     "conf/io.yaml");
}

}  // namespace

TEST_CASE("io: every documented value of uring and send_batch, and the defaults", "[config]") {
  struct Case {
    const char* yaml;
    UringUse uring;
    SendBatching sendBatch;
  };
  const Case cases[] = {
      {"", UringUse::Auto, SendBatching::Gso},
      {"io:\n  uring: off\n  send_batch: mmsg\n", UringUse::Off, SendBatching::Mmsg},
      {"io: {uring: send, send_batch: off}\n", UringUse::Send, SendBatching::Off},
      {"io: {uring: auto, send_batch: gso}\n", UringUse::Auto, SendBatching::Gso},
  };
  for (const Case& k : cases) {
    INFO(k.yaml);
    auto c = withIo(k.yaml);
    REQUIRE(c.ok());
    CHECK(c->io.uring == k.uring);
    CHECK(c->io.sendBatch == k.sendBatch);
  }
}

TEST_CASE("io: an unknown value or key is refused with file, line and key", "[config]") {
  auto c = withIo("io:\n  uring: on\n");
  REQUIRE_FALSE(c.ok());
  INFO(formatErrors(c.error()));
  CHECK(formatErrors(c.error()).find("conf/io.yaml:6:10: io.uring: unknown value 'on' (expected auto, send, off)") !=
        std::string::npos);
  c = withIo("io:\n  send_batch: [gso]\n");
  REQUIRE_FALSE(c.ok());
  CHECK(formatErrors(c.error()).find("conf/io.yaml:6:15: io.send_batch") != std::string::npos);
  c = withIo("io:\n  urng: off\n");
  REQUIRE_FALSE(c.ok());
  INFO(formatErrors(c.error()));
  CHECK(formatErrors(c.error()).find("conf/io.yaml:6:3: io: unknown key 'urng' (did you mean 'uring'?)") != std::string::npos);
}

TEST_CASE("io: a reload keeps the running io section and names it", "[config]") {
  auto running = withIo("");
  auto next = withIo("io: {uring: off}\n");
  REQUIRE(running.ok());
  REQUIRE(next.ok());
  const ReloadPlan plan = planReload(*running, *next);
  CHECK(plan.restartOnly == std::vector<std::string>{"io"});
  CHECK(plan.config.io.uring == UringUse::Auto);
}
