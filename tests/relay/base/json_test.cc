#include "relay/base/json.h"

#include <catch2/catch.hpp>

TEST_CASE("jsonString escapes quotes, control bytes and non-ASCII") {
  using tw::jsonString;
  CHECK(jsonString("alice") == "\"alice\"");
  CHECK(jsonString("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(jsonString("x\r\ny") == "\"x\\r\\ny\"");
  CHECK(jsonString(std::string("\0\x1b", 2)) == "\"\\u0000\\u001b\"");
  CHECK(jsonString("\xc3\xa9") == "\"\\u00c3\\u00a9\"");
}
