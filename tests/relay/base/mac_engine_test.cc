#include "relay/base/mac_engine.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace tw;

namespace {
std::string hex(const std::optional<std::array<uint8_t, 20>>& m) { return m ? hexEncode(*m) : "none"; }
std::string hex(const std::optional<std::array<uint8_t, 32>>& m) { return m ? hexEncode(*m) : "none"; }
}  // namespace

TEST_CASE("MacEngine: known answers (RFC 2202, RFC 4231, RFC 1321)") {
  MacEngine e;
  CHECK(hex(e.hmacSha1(asBytes("Jefe"), {asBytes("what do ya want for nothing?")})) ==
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  CHECK(hex(e.hmacSha256(asBytes("Jefe"), {asBytes("what do ya want for nothing?")})) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(hexEncode(e.md5({asBytes("abc")})) == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(hexEncode(e.sha256({asBytes("abc")})) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("MacEngine: a reused context takes each call's key, never the previous one") {
  // The contexts are re-keyed per call: alternating keys must give what a
  // fresh engine gives for each, and an empty key must not fall back to
  // the key of the call before (OpenSSL keeps the old key for a null one).
  MacEngine reused;
  const auto data = asBytes("message");
  for (int round = 0; round < 3; ++round) {
    for (std::string key : {"k1", "another key", "", "k1"}) {
      MacEngine fresh;
      CHECK(reused.hmacSha1(asBytes(key), {data}) == fresh.hmacSha1(asBytes(key), {data}));
      CHECK(reused.hmacSha256(asBytes(key), {data}) == fresh.hmacSha256(asBytes(key), {data}));
    }
  }
  CHECK(reused.hmacSha1(asBytes(""), {data}) != reused.hmacSha1(asBytes("k1"), {data}));
}

TEST_CASE("MacEngine: keys kept for reuse stay apart, past the four kept per digest") {
  // Six keys (more than the four contexts kept), keys that differ only in
  // their last byte or length, and a key longer than 64 bytes (never kept),
  // in an order that evicts and brings back: each answer must be what a
  // fresh engine gives.
  const std::string longKey(100, 'x');
  const std::vector<std::string> keys = {"key-a", "key-b",  "key-c", "key-d", "key-e",
                                         "key-f", "key-a1", "key-",  longKey, std::string(64, 'y')};
  MacEngine reused;
  uint32_t state = 1;
  for (int i = 0; i < 400; ++i) {
    state = state * 1103515245 + 12345;
    const std::string& key = keys[(state >> 8) % keys.size()];
    const std::string data = "message " + std::to_string(i);
    MacEngine fresh;
    REQUIRE(reused.hmacSha1(asBytes(key), {asBytes(data)}) == fresh.hmacSha1(asBytes(key), {asBytes(data)}));
    REQUIRE(reused.hmacSha256(asBytes(key), {asBytes(data)}) ==
            fresh.hmacSha256(asBytes(key), {asBytes(data)}));
  }
  // The same key twice in a row (a check, then a signature) gives the same MAC.
  CHECK(reused.hmacSha1(asBytes("key-a"), {asBytes("m")}) ==
        reused.hmacSha1(asBytes("key-a"), {asBytes("m")}));
}

TEST_CASE("MacEngine: parts are the MAC of their concatenation") {
  MacEngine e;
  const auto whole = e.hmacSha1(asBytes("key"), {asBytes("header|body")});
  CHECK(e.hmacSha1(asBytes("key"), {asBytes("header"), asBytes("|"), asBytes("body")}) == whole);
  CHECK(e.hmacSha1(asBytes("key"), {asBytes(""), asBytes("header|body"), asBytes("")}) == whole);
  CHECK(e.md5({asBytes("a"), asBytes("bc")}) == e.md5({asBytes("abc")}));
  CHECK(e.md5({asBytes("abc")}) == md5(asBytes("abc")));  // one-shot and engine agree
}

TEST_CASE("MacEngine: the long-term key equals MD5 of user:realm:password") {
  MacEngine e;
  CHECK(longTermKeyMd5(e, "user", "realm", "pass") == md5(asBytes("user:realm:pass")));
  CHECK(longTermKeyMd5("user", "realm", "pass") == md5(asBytes("user:realm:pass")));
}
