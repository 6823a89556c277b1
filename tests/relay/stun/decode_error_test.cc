#include "relay/stun/decode_error.h"

#include <catch2/catch.hpp>
#include <set>
#include <string_view>

using namespace tw::stun;

TEST_CASE("decode error reasons are distinct snake_case strings") {
  const DecodeError all[] = {
      DecodeError::TooShort,       DecodeError::NotStun,           DecodeError::BadMagicCookie,
      DecodeError::BadLength,      DecodeError::AttributeOverrun,  DecodeError::BadAttributeOrder,
      DecodeError::BadFingerprint, DecodeError::TooManyAttributes, DecodeError::BadAttributeLength};
  std::set<std::string_view> seen;
  for (DecodeError e : all) {
    const auto s = toString(e);
    CHECK_FALSE(s.empty());
    for (char c : s) CHECK(((c >= 'a' && c <= 'z') || c == '_'));
    seen.insert(s);
  }
  CHECK(seen.size() == std::size(all));
  CHECK(toString(DecodeError::BadMagicCookie) == "bad_magic_cookie");
  CHECK(toString(DecodeError::TooShort) == "too_short");
}
