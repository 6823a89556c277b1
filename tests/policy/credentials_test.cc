#include "policy/credentials.h"

#include <catch2/catch.hpp>
#include <limits>
#include <string>
#include <vector>

#include "relay/base/crypto.h"
#include "relay/base/log.h"

using tw::policy::AuthFailure;
using tw::policy::checkRestExpiry;
using tw::policy::CredentialCheck;
using tw::policy::findStaticUser;
using tw::policy::Keyring;
using tw::policy::longTermKey;
using tw::policy::mintCredential;
using tw::policy::parseRestUsername;
using tw::policy::restPassword;
using tw::policy::RestUsername;
using tw::policy::Secret;
using tw::policy::StaticUser;

namespace {

constexpr int64_t kNow = 1'700'000'000;

AuthFailure parseFailure(std::string_view username) {
  auto r = parseRestUsername(username);
  INFO(tw::sanitize(username));
  REQUIRE_FALSE(r.ok());
  return r.error();
}

std::array<uint8_t, 16> expectedKey(std::string_view username, std::string_view realm,
                                    std::string_view password) {
  const std::string joined = std::string(username) + ":" + std::string(realm) + ":" + std::string(password);
  return tw::md5(tw::asBytes(joined));
}

/// The outcome of checkRestExpiry as text, for one-line comparisons.
std::string expiryVerdict(int64_t expiry, int64_t now, int64_t maxTtl, int64_t skew) {
  const auto s = checkRestExpiry(RestUsername{expiry, "u"}, CredentialCheck{now, maxTtl, skew});
  return s.ok() ? "ok" : std::string(tw::policy::toString(s.error()));
}

}  // namespace

TEST_CASE("AuthFailure names are stable metric labels") {
  CHECK(toString(AuthFailure::BadIntegrity) == "bad_integrity");
  CHECK(toString(AuthFailure::Expired) == "expired");
  CHECK(toString(AuthFailure::MalformedUsername) == "malformed_username");
  CHECK(toString(AuthFailure::UnknownUser) == "unknown_user");
  CHECK(toString(AuthFailure::StaleNonce) == "stale_nonce");
  CHECK(toString(AuthFailure::OverMaxTtl) == "over_max_ttl");
  CHECK(toString(AuthFailure::MissingAttributes) == "missing_attributes");
  CHECK(toString(AuthFailure::Blocked) == "blocked");
}

TEST_CASE("well-formed REST usernames") {
  auto r = parseRestUsername("1700000000:alice");
  REQUIRE(r.ok());
  CHECK(r->expiry == 1'700'000'000);
  CHECK(r->user == "alice");

  r = parseRestUsername("1700000000");  // no colon: expiry alone, empty user
  REQUIRE(r.ok());
  CHECK(r->expiry == 1'700'000'000);
  CHECK(r->user.empty());

  r = parseRestUsername("1700000000:");
  REQUIRE(r.ok());
  CHECK(r->user.empty());

  r = parseRestUsername("1700000000:a:b:c");  // split at the first colon
  REQUIRE(r.ok());
  CHECK(r->user == "a:b:c");

  r = parseRestUsername("999999999999:x");  // 12 digits: the maximum
  REQUIRE(r.ok());
  CHECK(r->expiry == 999'999'999'999);

  r = parseRestUsername("0000001:x");  // leading zeros are still digits
  REQUIRE(r.ok());
  CHECK(r->expiry == 1);
}

TEST_CASE("malformed REST usernames") {
  CHECK(parseFailure("") == AuthFailure::MalformedUsername);
  CHECK(parseFailure(":bob") == AuthFailure::MalformedUsername);  // empty expiry
  CHECK(parseFailure(":") == AuthFailure::MalformedUsername);
  CHECK(parseFailure("-5:bob") == AuthFailure::MalformedUsername);
  CHECK(parseFailure("+5:bob") == AuthFailure::MalformedUsername);
  CHECK(parseFailure(" 123:bob") == AuthFailure::MalformedUsername);
  CHECK(parseFailure("123 :bob") == AuthFailure::MalformedUsername);
  CHECK(parseFailure("\t123:bob") == AuthFailure::MalformedUsername);
  CHECK(parseFailure("abc:bob") == AuthFailure::MalformedUsername);
  CHECK(parseFailure("12a:bob") == AuthFailure::MalformedUsername);
  CHECK(parseFailure("1e9:bob") == AuthFailure::MalformedUsername);
  CHECK(parseFailure("0x10:bob") == AuthFailure::MalformedUsername);
  CHECK(parseFailure("1.5:bob") == AuthFailure::MalformedUsername);
  CHECK(parseFailure(std::string("12\0"
                                 "3:bob",
                                 7)) == AuthFailure::MalformedUsername);
  CHECK(parseFailure("\xef\xbc\x91:bob") == AuthFailure::MalformedUsername);  // fullwidth 1
  CHECK(parseFailure("0:bob") == AuthFailure::MalformedUsername);
  CHECK(parseFailure("000:bob") == AuthFailure::MalformedUsername);
  CHECK(parseFailure("1234567890123:bob") == AuthFailure::MalformedUsername);         // 13 digits
  CHECK(parseFailure("12345678901234567890:bob") == AuthFailure::MalformedUsername);  // 20
  CHECK(parseFailure("99999999999999999999999999999999:bob") == AuthFailure::MalformedUsername);
  CHECK(parseFailure("bob") == AuthFailure::MalformedUsername);  // no colon, not a number
}

TEST_CASE("REST username length limit is 512 bytes") {
  std::string name = "1700000000:";
  name.append(tw::policy::kMaxUsernameBytes - name.size(), 'x');
  REQUIRE(name.size() == 512);
  CHECK(parseRestUsername(name).ok());
  name.push_back('x');
  CHECK(parseFailure(name) == AuthFailure::MalformedUsername);
}

TEST_CASE("REST password is base64(HMAC-SHA1(secret, username))") {
  const std::string password = restPassword("s3cret-value-0123", "1700086400:alice");
  const auto decoded = tw::base64Decode(password);
  REQUIRE(decoded.has_value());
  const auto mac = tw::hmacSha1(tw::asBytes("s3cret-value-0123"), tw::asBytes("1700086400:alice"));
  CHECK(*decoded == std::vector<uint8_t>(mac.begin(), mac.end()));
  CHECK(password.size() == 28);  // 20 bytes in base64 with padding
  // A different secret or username gives a different password.
  CHECK(restPassword("s3cret-value-0124", "1700086400:alice") != password);
  CHECK(restPassword("s3cret-value-0123", "1700086400:alicf") != password);
}

TEST_CASE("REST password known answer: RFC 2202 HMAC-SHA1 test case 2") {
  // key = "Jefe", data = "what do ya want for nothing?"
  // HMAC-SHA1 = effcdf6ae5eb2fa2d27416d5f184df9c259a7c79 (RFC 2202 section 3)
  const auto decoded = tw::base64Decode(restPassword("Jefe", "what do ya want for nothing?"));
  REQUIRE(decoded.has_value());
  CHECK(tw::hexEncode(*decoded) == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST_CASE("long-term key is MD5(username:realm:password)") {
  CHECK(longTermKey("1700086400:alice", "example.org", "pw") ==
        expectedKey("1700086400:alice", "example.org", "pw"));
  // RFC 1321 MD5 test suite: MD5("abc") = 900150983cd24fb0d6963f7d28e17f72;
  // "a:b:c" is not "abc", so the separators must be there.
  CHECK(tw::hexEncode(tw::md5(tw::asBytes("abc"))) == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(longTermKey("a", "b", "c") != tw::md5(tw::asBytes("abc")));
  CHECK(longTermKey("a", "b", "c") == tw::md5(tw::asBytes("a:b:c")));
  CHECK(longTermKey("a:b", "", "c") == tw::md5(tw::asBytes("a:b::c")));
}

TEST_CASE("expiry boundaries with skew") {
  // now = 1'700'000'000, maxTtl = 86'400, skew = 300
  const int64_t now = kNow;
  CHECK(expiryVerdict(now, now, 86'400, 300) == "ok");
  CHECK(expiryVerdict(now - 300, now, 86'400, 300) == "ok");       // expiry + skew == now
  CHECK(expiryVerdict(now - 301, now, 86'400, 300) == "expired");  // expiry + skew < now
  CHECK(expiryVerdict(1, now, 86'400, 300) == "expired");
  CHECK(expiryVerdict(now + 86'400, now, 86'400, 300) == "ok");  // turnutils -W: now + 24 h
  CHECK(expiryVerdict(now + 86'700, now, 86'400, 300) == "ok");  // now + maxTtl + skew
  CHECK(expiryVerdict(now + 86'701, now, 86'400, 300) == "over_max_ttl");
  CHECK(expiryVerdict(999'999'999'999, now, 86'400, 300) == "over_max_ttl");
}

TEST_CASE("expiry boundaries without skew") {
  CHECK(expiryVerdict(kNow, kNow, 600, 0) == "ok");
  CHECK(expiryVerdict(kNow - 1, kNow, 600, 0) == "expired");
  CHECK(expiryVerdict(kNow + 600, kNow, 600, 0) == "ok");
  CHECK(expiryVerdict(kNow + 601, kNow, 600, 0) == "over_max_ttl");
  // A negative skew is treated as zero rather than shrinking the window.
  CHECK(expiryVerdict(kNow, kNow, 600, -50) == "ok");
  CHECK(expiryVerdict(kNow + 600, kNow, 600, -50) == "ok");
}

TEST_CASE("expiry arithmetic saturates instead of overflowing") {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  CHECK(expiryVerdict(999'999'999'999, kNow, kMax, kMax) == "ok");
  CHECK(expiryVerdict(kMax, kNow, 600, 0) == "over_max_ttl");
  CHECK(expiryVerdict(kMax, kNow, 600, 10) == "over_max_ttl");  // expiry + skew saturates
  CHECK(expiryVerdict(kMax, kMax - 5, 600, 0) == "ok");         // now + maxTtl saturates
  CHECK(expiryVerdict(kNow - 1, kNow, kMax, 0) == "expired");
}

TEST_CASE("keyring with two secrets verifies with either and mints with the first") {
  const Keyring ring({Secret{"new", "new-secret-value-0001", std::nullopt},
                      Secret{"old", "old-secret-value-0002", kNow + 3600}});
  REQUIRE(ring.minting(kNow) != nullptr);
  CHECK(ring.minting(kNow)->id == "new");
  CHECK(ring.secrets().size() == 2);

  const std::string username = "1700086400:alice";
  std::array<std::array<uint8_t, 16>, 4> keys{};
  REQUIRE(ring.candidateKeys(username, "example.org", kNow, keys) == 2);
  CHECK(keys[0] == expectedKey(username, "example.org", restPassword("new-secret-value-0001", username)));
  CHECK(keys[1] == expectedKey(username, "example.org", restPassword("old-secret-value-0002", username)));
  CHECK(keys[0] != keys[1]);
}

TEST_CASE("an expired secret neither mints nor verifies") {
  const Keyring ring({Secret{"retired", "retired-value-00001", kNow - 1},
                      Secret{"current", "current-value-00002", std::nullopt}});
  REQUIRE(ring.minting(kNow) != nullptr);
  CHECK(ring.minting(kNow)->id == "current");
  const std::string username = "1700086400:bob";
  std::array<std::array<uint8_t, 16>, 4> keys{};
  REQUIRE(ring.candidateKeys(username, "r", kNow, keys) == 1);
  CHECK(keys[0] == expectedKey(username, "r", restPassword("current-value-00002", username)));
  CHECK(keys[0] != expectedKey(username, "r", restPassword("retired-value-00001", username)));
}

TEST_CASE("secret notAfter boundary is inclusive") {
  const Keyring ring({Secret{"a", "aaaaaaaaaaaaaaaaaaaa", kNow}});
  std::array<std::array<uint8_t, 16>, 2> keys{};
  CHECK(ring.minting(kNow) != nullptr);
  CHECK(ring.candidateKeys("1:x", "r", kNow, keys) == 1);
  CHECK(ring.minting(kNow + 1) == nullptr);
  CHECK(ring.candidateKeys("1:x", "r", kNow + 1, keys) == 0);
  CHECK_FALSE(mintCredential(ring, "x", 60, kNow + 1).has_value());
}

TEST_CASE("candidateKeys never writes past the output span") {
  const Keyring ring({Secret{"a", "aaaaaaaaaaaaaaaaaaaa", std::nullopt},
                      Secret{"b", "bbbbbbbbbbbbbbbbbbbb", std::nullopt},
                      Secret{"c", "cccccccccccccccccccc", std::nullopt}});
  std::array<std::array<uint8_t, 16>, 3> keys{};
  const std::array<uint8_t, 16> sentinel{0xAA};
  keys[2] = sentinel;
  CHECK(ring.candidateKeys("1:x", "r", kNow, std::span(keys).first(2)) == 2);
  CHECK(keys[2] == sentinel);
  CHECK(ring.candidateKeys("1:x", "r", kNow, std::span<std::array<uint8_t, 16>>{}) == 0);
}

TEST_CASE("empty keyring") {
  const Keyring ring({});
  std::array<std::array<uint8_t, 16>, 2> keys{};
  CHECK(ring.minting(kNow) == nullptr);
  CHECK(ring.candidateKeys("1:x", "r", kNow, keys) == 0);
  CHECK_FALSE(mintCredential(ring, "x", 60, kNow).has_value());
}

TEST_CASE("minted credentials parse, pass the expiry check and verify") {
  const Keyring ring(
      {Secret{"a", "aaaaaaaaaaaaaaaaaaaa", std::nullopt}, Secret{"b", "bbbbbbbbbbbbbbbbbbbb", std::nullopt}});
  const auto minted = mintCredential(ring, "alice", 86'400, kNow);
  REQUIRE(minted.has_value());
  CHECK(minted->ttl == 86'400);
  CHECK(minted->password == restPassword("aaaaaaaaaaaaaaaaaaaa", minted->username));
  const auto parsed = parseRestUsername(minted->username);
  REQUIRE(parsed.ok());
  CHECK(parsed->expiry == kNow + 86'400);
  CHECK(parsed->user == "alice");
  CHECK(checkRestExpiry(*parsed, CredentialCheck{kNow, 86'400, 0}).ok());
  std::array<std::array<uint8_t, 16>, 2> keys{};
  REQUIRE(ring.candidateKeys(minted->username, "realm", kNow, keys) == 2);
  CHECK(keys[0] == longTermKey(minted->username, "realm", minted->password));
}

TEST_CASE("mintCredential edge cases") {
  const Keyring ring({Secret{"a", "aaaaaaaaaaaaaaaaaaaa", std::nullopt}});
  const auto bare = mintCredential(ring, "", 60, kNow);
  REQUIRE(bare.has_value());
  CHECK(bare->username == std::to_string(kNow + 60));
  CHECK_FALSE(mintCredential(ring, "x", 0, kNow).has_value());
  CHECK_FALSE(mintCredential(ring, "x", -1, kNow).has_value());
  CHECK_FALSE(mintCredential(ring, std::string(600, 'x'), 60, kNow).has_value());
  // An expiry that would not fit in 12 digits cannot be minted either.
  CHECK_FALSE(mintCredential(ring, "x", 1'000'000'000'000, kNow).has_value());
}

TEST_CASE("static users match exactly, never by prefix or when empty") {
  const std::vector<StaticUser> users = {StaticUser{"alice", {1}}, StaticUser{"bob", {2}},
                                         StaticUser{"", {3}}};
  REQUIRE(findStaticUser(users, "alice") != nullptr);
  CHECK(findStaticUser(users, "alice")->key[0] == 1);
  CHECK(findStaticUser(users, "bob")->key[0] == 2);
  CHECK(findStaticUser(users, "alice2") == nullptr);
  CHECK(findStaticUser(users, "ali") == nullptr);
  CHECK(findStaticUser(users, "Alice") == nullptr);
  CHECK(findStaticUser(users, std::string_view("alice\0", 6)) == nullptr);
  CHECK(findStaticUser(users, "") == nullptr);  // even though an empty-named entry exists
  CHECK(findStaticUser(std::span<const StaticUser>{}, "alice") == nullptr);
}
