#include "relay/base/log.h"

#include <catch2/catch.hpp>

TEST_CASE("sanitize makes hostile text inert") {
  using tw::sanitize;
  CHECK(sanitize("alice") == "alice");
  CHECK(sanitize("a\"b") == "a\\x22b");
  CHECK(sanitize("%n%s") == "\\x25n\\x25s");
  CHECK(sanitize(std::string("x\r\ny\0z", 6)) == "x\\x0d\\x0ay\\x00z");
  CHECK(sanitize("\x1b[31mred") == "\\x1b[31mred");
  CHECK(sanitize(std::string(300, 'a'), 10) == std::string(10, 'a') + "...");
}
