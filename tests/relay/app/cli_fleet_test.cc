// `turnwarden fleet status --config FILE` on the command line (cli.cc).
#include <catch2/catch.hpp>

#include "relay/app/cli.h"

using tw::app::parseCli;

TEST_CASE("fleet status needs its subcommand and --config") {
  auto ok = parseCli({"turnwarden", "fleet", "status", "--config", "/etc/tw.yaml"});
  CHECK(ok.error.empty());
  CHECK(ok.command == "fleet");
  CHECK(ok.sub == "status");
  CHECK(ok.config == "/etc/tw.yaml");
  CHECK_FALSE(parseCli({"turnwarden", "fleet", "status"}).error.empty());
  CHECK_FALSE(parseCli({"turnwarden", "fleet", "--config", "x.yaml"}).error.empty());
  CHECK_FALSE(parseCli({"turnwarden", "fleet", "nuke", "--config", "x.yaml"}).error.empty());
  CHECK_FALSE(parseCli({"turnwarden", "fleet", "status", "extra", "--config", "x.yaml"}).error.empty());
  CHECK(parseCli({"turnwarden", "rotate", "--config", "x.yaml"}).sub.empty());
}
