// The command line (cli.cc): `turnwarden fleet status --config FILE` and --realm.
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

TEST_CASE("The --realm option goes with credential and rotate only") {
  auto c =
      parseCli({"turnwarden", "credential", "--config", "x.yaml", "--user", "u", "--realm", "t.example"});
  CHECK(c.error.empty());
  CHECK(c.realm == "t.example");
  auto r = parseCli({"turnwarden", "rotate", "--config", "x.yaml", "--realm", "t.example"});
  CHECK(r.error.empty());
  CHECK(r.realm == "t.example");
  CHECK(parseCli({"turnwarden", "credential", "--config", "x.yaml", "--user", "u"}).realm.empty());
  CHECK_FALSE(
      parseCli({"turnwarden", "credential", "--config", "x.yaml", "--user", "u", "--realm"}).error.empty());
  CHECK_FALSE(parseCli({"turnwarden", "check-config", "x.yaml", "--realm", "t"}).error.empty());
}
