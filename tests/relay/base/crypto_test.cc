#include "relay/base/crypto.h"

#include <catch2/catch.hpp>

using namespace tw;

TEST_CASE("HMAC-SHA1 matches RFC 2202 test case 2") {
  auto mac = hmacSha1(asBytes("Jefe"), asBytes("what do ya want for nothing?"));
  CHECK(hexEncode(mac) == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST_CASE("MD5 and SHA-256 known answers") {
  CHECK(hexEncode(md5(asBytes("abc"))) == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(hexEncode(sha256(asBytes("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("CRC-32 check value") { CHECK(crc32(asBytes("123456789")) == 0xCBF43926u); }

TEST_CASE("base64 round-trips every padding case") {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto enc = base64Encode(asBytes(s));
    auto dec = base64Decode(enc);
    REQUIRE(dec);
    CHECK(std::string(dec->begin(), dec->end()) == s);
  }
  CHECK(base64Encode(asBytes("foobar")) == "Zm9vYmFy");
  CHECK_FALSE(base64Decode("abc"));
  CHECK_FALSE(base64Decode("!!!!"));
}

TEST_CASE("hex decode rejects odd length and bad digits") {
  CHECK(hexDecode("00ff")->at(1) == 0xff);
  CHECK_FALSE(hexDecode("0"));
  CHECK_FALSE(hexDecode("zz"));
}

TEST_CASE("constantTimeEqual") {
  CHECK(constantTimeEqual(asBytes("abc"), asBytes("abc")));
  CHECK_FALSE(constantTimeEqual(asBytes("abc"), asBytes("abd")));
  CHECK_FALSE(constantTimeEqual(asBytes("abc"), asBytes("ab")));
}
