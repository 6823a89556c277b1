#include "metrics/secret_age.h"

#include <catch2/catch.hpp>

#include "policy/secrets_file.h"

using tw::metrics::SecretAge;
using tw::metrics::secretCreatedFromId;
using tw::policy::Secret;

namespace {
Secret secret(const std::string& id) { return Secret{id, std::string(32, 'a'), std::nullopt}; }
}  // namespace

TEST_CASE("secretCreatedFromId reads the ids turnwarden generates") {
  const int64_t t = 1767225600 + 3661;  // 2026-01-01 01:01:01 UTC
  CHECK(secretCreatedFromId(tw::policy::secretIdFor(t)) == t);
  CHECK(secretCreatedFromId(tw::policy::secretIdFor(t) + "-2") == t);
  CHECK(secretCreatedFromId("k20260101-010101") == t);
  CHECK_FALSE(secretCreatedFromId("k1").has_value());
  CHECK_FALSE(secretCreatedFromId("k20260101-010101x").has_value());
  CHECK_FALSE(secretCreatedFromId("k20260101-010101-").has_value());
  CHECK_FALSE(secretCreatedFromId("primary-secret-01").has_value());
}

TEST_CASE("SecretAge counts a change of the minting secret as a rotation") {
  SecretAge age;
  CHECK_FALSE(age.ageSeconds(100).has_value());
  CHECK_FALSE(age.observe({secret("a")}, std::nullopt, 100));  // first keyring: not a rotation
  CHECK(age.observe({secret("b"), secret("a")}, std::nullopt, 200));
  // Pruning the old secret keeps "b" minting: no rotation.
  CHECK_FALSE(age.observe({secret("b")}, std::nullopt, 300));
  CHECK_FALSE(age.observe({}, std::nullopt, 300));
  CHECK(age.observe({secret("c"), secret("b")}, std::nullopt, 400));
}

TEST_CASE("SecretAge takes the creation time from the id, else the file mtime, else now") {
  SecretAge age;
  const int64_t made = 1767225600;
  age.observe({secret(tw::policy::secretIdFor(made))}, made + 50, made + 100);
  CHECK(age.ageSeconds(made + 130) == Approx(130));
  age.observe({secret("hand-named"), secret(tw::policy::secretIdFor(made))}, made + 500, made + 600);
  CHECK(age.ageSeconds(made + 700) == Approx(200));  // from the file's mtime
  age.observe({secret("inline")}, std::nullopt, made + 1000);
  CHECK(age.ageSeconds(made + 1010) == Approx(10));  // first seen
  CHECK(age.ageSeconds(made + 900) == Approx(0));    // clock went back: never negative
}
