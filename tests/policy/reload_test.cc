// workers: and the split between reloadable and restart-only keys
// (policy/reload.h).
#include "policy/reload.h"

#include <sched.h>

#include <catch2/catch.hpp>

#include "policy/config.h"

namespace tw::policy {
namespace {

Config parsed(const std::string& extra) {
  auto r = parseConfig(
      "realm: r\nauth:\n  secrets:\n    - {id: k1, value: \"0123456789abcdef0123456789abcdef\"}\n" + extra,
      "conf/reload.yaml");
  REQUIRE(r.ok());
  return r.value();
}

TEST_CASE("workers: auto (one per core) or 1..256", "[config]") {
  CHECK(parsed("").workers == 0);
  CHECK(parsed("workers: auto\n").workers == 0);
  CHECK(parsed("workers: 2\n").workers == 2);
  cpu_set_t allowed;
  REQUIRE(sched_getaffinity(0, sizeof allowed, &allowed) == 0);
  const unsigned cores = static_cast<unsigned>(CPU_COUNT(&allowed));
  CHECK(workerCount(parsed("")) == std::min(cores, kMaxWorkers));
  CHECK(workerCount(parsed("workers: 3\n")) == 3);
  // auto counts the cores this process may use, not the machine's: pinned
  // to one core (taskset), one worker.
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &allowed)) {
      CPU_SET(c, &one);
      break;
    }
  REQUIRE(sched_setaffinity(0, sizeof one, &one) == 0);
  CHECK(workerCount(parsed("")) == 1);
  CHECK(workerCount(parsed("workers: 2\n")) == 2);
  REQUIRE(sched_setaffinity(0, sizeof allowed, &allowed) == 0);
  for (const char* bad : {"workers: 0\n", "workers: 257\n", "workers: two\n", "workers: [2]\n"}) {
    INFO(bad);
    auto r = parseConfig(std::string("realm: r\nauth:\n  secrets:\n    - {id: k1, value: "
                                     "\"0123456789abcdef0123456789abcdef\"}\n") +
                             bad,
                         "conf/reload.yaml");
    REQUIRE_FALSE(r.ok());
    CHECK(formatErrors(r.error()).find("workers: expected auto or a number of workers from 1 to 256") !=
          std::string::npos);
  }
}

TEST_CASE("a reload takes every reloadable key and keeps and names the restart-only ones", "[config]") {
  const Config running = parsed("workers: 2\nrelay:\n  port_range: 40000-40999\n");
  ReloadPlan same = planReload(running, running);
  CHECK(same.restartOnly.empty());

  const Config next = parsed(
      "workers: 4\nrelay:\n  port_range: 41000-41999\n  tcp: true\n"
      "quotas: {per_user: 3}\nmetrics:\n  listen: 127.0.0.1:9999\nlog: {level: debug}\n");
  ReloadPlan plan = planReload(running, next);
  CHECK(plan.restartOnly == std::vector<std::string>{"relay", "workers", "log", "metrics"});
  CHECK(plan.config.workers == 2);  // restart-only: the running values stay
  CHECK(plan.config.relay.portMin == 40000);
  CHECK(plan.config.metrics.listen == running.metrics.listen);
  CHECK(plan.config.log.level == running.log.level);
  CHECK(plan.config.relay.tcp);  // relay.tcp is reloadable
  CHECK(plan.config.quotas.perUser == 3);
}

}  // namespace
}  // namespace tw::policy
