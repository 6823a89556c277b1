#pragma once
// Config text parsed for a test, as the tests of realms and per-realm
// keyrings use it: the config, or every error formatted FILE:LINE:COL.
#include <catch2/catch.hpp>
#include <string>

#include "policy/config.h"

namespace tw::testing {

/// The config `yaml` (named `file` in errors); fails the test if it is refused.
inline policy::Config parsedConfig(const std::string& yaml, const char* file) {
  auto c = policy::parseConfig(yaml, file);
  if (!c) FAIL(policy::formatErrors(c.error()));
  return c.value();
}

/// The errors of `yaml`, one per line; fails the test if it is accepted.
inline std::string configErrors(const std::string& yaml, const char* file) {
  auto c = policy::parseConfig(yaml, file);
  REQUIRE_FALSE(c.ok());
  return policy::formatErrors(c.error());
}

}  // namespace tw::testing
