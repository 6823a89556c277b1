#include "relay/stun/attribute.h"

#include <catch2/catch.hpp>
#include <vector>

using namespace tw::stun;

TEST_CASE("readAttribute reads type and length and value offset") {
  const std::vector<uint8_t> m = {0x00, 0x0D, 0x00, 0x04, 1, 2, 3, 4, 0x80, 0x22, 0x00, 0x01, 'x', 0, 0, 0};
  auto a = readAttribute(m, 0);
  REQUIRE(a.ok());
  CHECK(a->type == 0x000D);
  CHECK(a->length == 4);
  CHECK(a->offset == 4);
  CHECK(nextAttributePos(*a) == 8);
  auto b = readAttribute(m, 8);
  REQUIRE(b.ok());
  CHECK(b->type == 0x8022);
  CHECK(b->length == 1);
  CHECK(b->offset == 12);
  CHECK(nextAttributePos(*b) == 16);  // padding skipped
}

TEST_CASE("readAttribute refuses truncated headers") {
  const std::vector<uint8_t> m = {0x00, 0x0D, 0x00, 0x04, 1, 2, 3, 4, 0x00, 0x06};
  for (size_t pos : {8u, 9u, 10u, 11u}) {
    auto a = readAttribute(m, pos);
    REQUIRE_FALSE(a.ok());
    CHECK(a.error() == DecodeError::AttributeOverrun);
  }
}

TEST_CASE("readAttribute refuses values and padding past the end") {
  std::vector<uint8_t> m = {0x00, 0x06, 0xFF, 0xFF, 'a', 'b', 'c', 'd'};
  auto a = readAttribute(m, 0);
  REQUIRE_FALSE(a.ok());
  CHECK(a.error() == DecodeError::AttributeOverrun);
  m = {0x00, 0x06, 0x00, 0x05, 'a', 'b', 'c', 'd', 'e'};  // value fits, padding does not
  a = readAttribute(m, 0);
  REQUIRE_FALSE(a.ok());
  CHECK(a.error() == DecodeError::AttributeOverrun);
  m.resize(12, 0);
  CHECK(readAttribute(m, 0).ok());
}
