#include "policy/jwt.h"

#include <catch2/catch.hpp>

#include "tests/support/jwt_signer.h"

namespace tw::policy {
namespace {

using testing::TestKey;

constexpr int64_t kNow = 1'800'000'000;
const std::vector<std::string> kAudiences{"turn", "other"};

JwtExpectations expect(int64_t now = kNow, int64_t skew = 60) {
  return JwtExpectations{"https://app.example.org", kAudiences, now, skew};
}

std::string good(int64_t exp = kNow + 600) {
  return testing::claims("https://app.example.org", "turn", "alice", exp);
}

Jwks jwksFor(const std::vector<std::string>& jwks) {
  auto set = Jwks::parse(testing::jwksOf(jwks));
  REQUIRE(set.ok());
  return std::move(set.value());
}

/// A key, a JWKS holding it as kid "k1", and tokens signed with it.
struct Signer {
  explicit Signer(JwtAlg alg) : key(TestKey::generate(alg)), jwks(jwksFor({key.jwk("k1")})) {}
  Result<JwtClaims, JwtRejection> verify(const std::string& token,
                                         const JwtExpectations& e = expect()) const {
    return verifyJwt(token, jwks, e);
  }
  TestKey key;
  Jwks jwks;
};

JwtRejection rejection(const Result<JwtClaims, JwtRejection>& r) {
  REQUIRE_FALSE(r.ok());
  return r.error();
}

}  // namespace

TEST_CASE("jwt: RS256, ES256 and EdDSA tokens signed by keys made with OpenSSL verify") {
  for (JwtAlg alg : {JwtAlg::RS256, JwtAlg::ES256, JwtAlg::EdDSA}) {
    INFO(toString(alg));
    Signer s(alg);
    auto ok = s.verify(s.key.token("k1", good()));
    REQUIRE(ok.ok());
    CHECK(ok->sub == "alice");
    CHECK(ok->exp == kNow + 600);
    // An aud array holding one configured audience, and no kid with one key of that alg.
    auto arr = s.verify(s.key.token(
        "", R"({"iss":"https://app.example.org","aud":["x","other"],"sub":"bob","exp":1800000100})"));
    REQUIRE(arr.ok());
    CHECK(arr->sub == "bob");
  }
}

TEST_CASE("jwt: a token signed by another key of the same type has a bad signature") {
  Signer s(JwtAlg::ES256);
  const TestKey other = TestKey::generate(JwtAlg::ES256);
  CHECK(rejection(s.verify(other.token("k1", good()))) == JwtRejection::BadSignature);
  // One flipped payload character: the signature no longer covers it.
  std::string t = s.key.token("k1", good());
  const size_t dot = t.find('.');
  t[dot + 3] = t[dot + 3] == 'A' ? 'B' : 'A';
  CHECK(rejection(s.verify(t)) == JwtRejection::BadSignature);
}

TEST_CASE("jwt: expired and not-yet-valid tokens, with the clock skew") {
  Signer s(JwtAlg::EdDSA);
  CHECK(rejection(s.verify(s.key.token("k1", good(kNow - 61)))) == JwtRejection::Expired);
  CHECK(s.verify(s.key.token("k1", good(kNow - 59))).ok());  // within skew
  const auto nbf = [&](int64_t at) {
    return s.key.token("k1", testing::claims("https://app.example.org", "turn", "alice", kNow + 600, at));
  };
  CHECK(rejection(s.verify(nbf(kNow + 61))) == JwtRejection::NotYetValid);
  CHECK(s.verify(nbf(kNow + 59)).ok());
  CHECK(rejection(s.verify(s.key.token("k1", testing::claims("https://app.example.org", "turn", "alice",
                                                             0)))) == JwtRejection::MissingExpiry);
}

TEST_CASE("jwt: wrong iss, wrong aud, missing sub") {
  Signer s(JwtAlg::RS256);
  CHECK(rejection(s.verify(s.key.token("k1", testing::claims("https://evil.example", "turn", "a",
                                                             kNow + 60)))) == JwtRejection::WrongIssuer);
  CHECK(rejection(s.verify(s.key.token("k1", testing::claims("https://app.example.org", "web", "a",
                                                             kNow + 60)))) == JwtRejection::WrongAudience);
  CHECK(rejection(s.verify(s.key.token("k1", testing::claims("https://app.example.org", "turn", "",
                                                             kNow + 60)))) == JwtRejection::MissingSubject);
  CHECK(rejection(s.verify(s.key.token(
            "k1", R"({"iss":"https://app.example.org","aud":"turn","sub":"","exp":1800000100})"))) ==
        JwtRejection::MissingSubject);
}

TEST_CASE("jwt: alg none and HS256 signed with the public key are refused before any key is used") {
  Signer s(JwtAlg::RS256);
  const std::string payload = testing::b64url(good());
  const std::string none = testing::b64url(R"({"alg":"none","typ":"JWT","kid":"k1"})") + "." + payload + ".";
  CHECK(rejection(s.verify(none)) == JwtRejection::BadAlgorithm);
  const std::string noneSigned = testing::b64url(R"({"alg":"none"})") + "." + payload + ".AAAA";
  CHECK(rejection(s.verify(noneSigned)) == JwtRejection::BadAlgorithm);
  // The algorithm-confusion attack: HMAC with the verifier's public key as the secret.
  const std::string confused =
      testing::hs256Token(R"({"alg":"HS256","typ":"JWT","kid":"k1"})", good(), s.key.publicPem());
  CHECK(rejection(s.verify(confused)) == JwtRejection::BadAlgorithm);
  // A key used with another algorithm than its own (ES256 header, RSA key) is no key.
  const TestKey ec = TestKey::generate(JwtAlg::ES256);
  CHECK(rejection(s.verify(ec.token("k1", good()))) == JwtRejection::UnknownKey);
  // crit: an extension we do not implement voids the token.
  CHECK(rejection(s.verify(s.key.sign(R"({"alg":"RS256","kid":"k1","crit":["exp"]})", good()))) ==
        JwtRejection::BadAlgorithm);
}

TEST_CASE("jwt: unknown kid, and several keys selected by kid") {
  const TestKey a = TestKey::generate(JwtAlg::EdDSA), b = TestKey::generate(JwtAlg::EdDSA);
  const Jwks both = jwksFor({a.jwk("a"), b.jwk("b")});
  CHECK(verifyJwt(a.token("a", good()), both, expect()).ok());
  CHECK(verifyJwt(b.token("b", good()), both, expect()).ok());
  CHECK(rejection(verifyJwt(a.token("b", good()), both, expect())) == JwtRejection::BadSignature);
  CHECK(rejection(verifyJwt(a.token("c", good()), both, expect())) == JwtRejection::UnknownKey);
  // No kid while two keys could match: ambiguous, refused.
  CHECK(rejection(verifyJwt(a.token("", good()), both, expect())) == JwtRejection::UnknownKey);
}

TEST_CASE("jwt: truncated tokens, bad base64 and oversize headers are malformed or oversize") {
  Signer s(JwtAlg::EdDSA);
  const std::string t = s.key.token("k1", good());
  CHECK(rejection(s.verify(t.substr(0, t.rfind('.')))) == JwtRejection::Malformed);  // no signature
  const size_t dot = t.rfind('.');
  auto cut = *base64UrlDecode(t.substr(dot + 1));
  cut.resize(cut.size() - 3);
  CHECK(rejection(s.verify(t.substr(0, dot + 1) + base64UrlEncode(cut))) ==
        JwtRejection::BadSignature);                                                    // cut signature
  CHECK(rejection(s.verify(t.substr(0, t.find('.') - 3))) == JwtRejection::Malformed);  // cut header
  CHECK(rejection(s.verify("")) == JwtRejection::Malformed);
  CHECK(rejection(s.verify(t + ".x")) == JwtRejection::Malformed);
  std::string padded = t;
  padded.insert(padded.find('.'), "=");
  CHECK(rejection(s.verify(padded)) == JwtRejection::Malformed);
  std::string bad = t;
  bad[2] = '*';
  CHECK(rejection(s.verify(bad)) == JwtRejection::Malformed);
  std::string badSig = t;
  badSig.back() = '!';
  CHECK(rejection(s.verify(badSig)) == JwtRejection::Malformed);
  const std::string big = R"({"alg":"EdDSA","kid":"k1","x":")" + std::string(800, 'a') + "\"}";
  CHECK(rejection(s.verify(s.key.sign(big, good()))) == JwtRejection::Oversize);
  CHECK(rejection(s.verify(std::string(kMaxJwtBytes + 1, 'a'))) == JwtRejection::Oversize);
  // Valid base64url that is not JSON, and JSON that is not an object.
  CHECK(rejection(s.verify(testing::b64url("not json") + "." + testing::b64url(good()) + ".AAAA")) ==
        JwtRejection::Malformed);
  CHECK(rejection(s.verify(testing::b64url("[1]") + "." + testing::b64url(good()) + ".AAAA")) ==
        JwtRejection::Malformed);
  // A signed payload that is not JSON.
  CHECK(rejection(s.verify(s.key.sign(R"({"alg":"EdDSA","kid":"k1"})", "\xff\xfe"))) ==
        JwtRejection::Malformed);
}

TEST_CASE("jwks: keys are built from n/e, x/y and x, and bad ones are refused") {
  const TestKey rsa = TestKey::generate(JwtAlg::RS256), ec = TestKey::generate(JwtAlg::ES256),
                ed = TestKey::generate(JwtAlg::EdDSA);
  auto all = Jwks::parse(testing::jwksOf({rsa.jwk("r"), ec.jwk("e"), ed.jwk("d")}));
  REQUIRE(all.ok());
  CHECK(all->size() == 3);
  // Keys for other uses or algorithms are skipped, not errors; none left is an error.
  auto skipped = Jwks::parse(R"({"keys":[{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"},
                                          {"kty":"oct","k":"c2VjcmV0"}]})");
  REQUIRE_FALSE(skipped.ok());
  CHECK(skipped.error().message.find("no usable key") != std::string::npos);
  CHECK(Jwks::parse(testing::jwksOf({ed.jwk("d"), R"({"kty":"RSA","alg":"RS512","n":"AQAB","e":"AQAB"})"}))
            ->size() == 1);
  auto dup = Jwks::parse(testing::jwksOf({ed.jwk("d"), ec.jwk("d")}));
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().message == "keys[1]: duplicate kid");
  auto badB64 = Jwks::parse(R"({"keys":[{"kty":"OKP","crv":"Ed25519","x":"***"}]})");
  REQUIRE_FALSE(badB64.ok());
  CHECK(badB64.error().message == "keys[0]: x is not base64url");
  // A P-256 "point" that is not on the curve.
  const std::string off = testing::b64url(std::string(32, '\x01'));
  auto offCurve =
      Jwks::parse(R"({"keys":[{"kty":"EC","crv":"P-256","x":")" + off + R"(","y":")" + off + "\"}]}");
  REQUIRE_FALSE(offCurve.ok());
  CHECK(offCurve.error().message == "keys[0]: not a point on P-256");
  auto small = Jwks::parse(testing::jwksOf({TestKey::rsa(1024).jwk("r")}));
  REQUIRE_FALSE(small.ok());
  CHECK(small.error().message.find("1024 bits") != std::string::npos);
  auto syntax = Jwks::parse("{\"keys\": [\n  {,}]}");
  REQUIRE_FALSE(syntax.ok());
  CHECK(syntax.error().syntax);
  CHECK(syntax.error().byte == 15);  // the ',' (1-based)
  CHECK_FALSE(Jwks::parse("[]").ok());
  CHECK_FALSE(Jwks::parse("").ok());
}

TEST_CASE("jwt: the TURN user is sub when it is plain and short, else a hash") {
  CHECK(turnUserFor("alice") == "alice");
  CHECK(turnUserFor("user_42@example.org") == "user_42@example.org");
  const std::string colon = turnUserFor("auth0|abc:def");
  CHECK(colon.size() == 33);
  CHECK(colon[0] == '~');
  CHECK(colon.find(':') == std::string::npos);
  CHECK(turnUserFor("auth0|abc:def") == colon);  // stable
  CHECK(turnUserFor("auth0|abc:deg") != colon);
  CHECK(turnUserFor(std::string(64, 'a')) == std::string(64, 'a'));
  CHECK(turnUserFor(std::string(65, 'a'))[0] == '~');
  CHECK(turnUserFor("~0123")[0] == '~');  // a plain sub never looks like a hash
  CHECK(turnUserFor("~0123") != "~0123");
  CHECK(turnUserFor("a b\n")[0] == '~');
}

namespace {

/// The base64url character of a 6-bit value.
char b64char(int v) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return kAlphabet[size_t(v)];
}

/// `t` with the last character's unused low bits set: the same bytes, spelt
/// another way (a 64-byte EdDSA signature leaves 4 bits unused).
std::string nonCanonicalSignature(const std::string& t) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = t;
  out.back() = b64char(int(kAlphabet.find(t.back())) | 1);
  return out;
}

}  // namespace

TEST_CASE("jwt: a signature with non-zero trailing bits is refused (one token, one spelling)") {
  Signer s(JwtAlg::EdDSA);
  const std::string t = s.key.token("k1", good());
  REQUIRE(s.verify(t).ok());
  const std::string other = nonCanonicalSignature(t);
  REQUIRE(other != t);
  // Both spellings decode to the same 64 bytes; only the canonical one passes.
  CHECK(rejection(s.verify(other)) == JwtRejection::Malformed);
  CHECK_FALSE(base64UrlDecode("AB"));  // 0x00 with 4 unused bits = 0001
  CHECK(*base64UrlDecode("AA") == std::vector<uint8_t>{0x00});
  CHECK_FALSE(base64UrlDecode("AAB"));  // 2 unused bits set
}

TEST_CASE("jwt: a header or claims object with a repeated member name is malformed") {
  Signer s(JwtAlg::EdDSA);
  // The last "sub" would win in nlohmann-json; another parser may take the first.
  const std::string twoSubs =
      R"({"iss":"https://app.example.org","aud":"turn","sub":"alice","exp":1800000600,"sub":"admin"})";
  CHECK(rejection(s.verify(s.key.token("k1", twoSubs))) == JwtRejection::Malformed);
  CHECK(rejection(s.verify(s.key.sign(R"({"alg":"EdDSA","kid":"k1","kid":"k2"})", good()))) ==
        JwtRejection::Malformed);
  // Nested objects keep their own names: the same name in two objects is fine.
  const std::string nested =
      R"({"iss":"https://app.example.org","aud":"turn","sub":"alice","exp":1800000600,"ctx":{"sub":"x"}})";
  CHECK(s.verify(s.key.token("k1", nested)).ok());
  const std::string nestedTwice =
      R"({"iss":"https://app.example.org","aud":"turn","sub":"alice","exp":1800000600,"ctx":{"a":1,"a":2}})";
  CHECK(rejection(s.verify(s.key.token("k1", nestedTwice))) == JwtRejection::Malformed);
}

TEST_CASE("jwt: an iat in the future beyond the clock skew is refused") {
  Signer s(JwtAlg::ES256);
  auto withIat = [](int64_t iat) {
    return R"({"iss":"https://app.example.org","aud":"turn","sub":"alice","exp":1800000600,"iat":)" +
           std::to_string(iat) + "}";
  };
  CHECK(s.verify(s.key.token("k1", withIat(kNow - 10))).ok());
  CHECK(s.verify(s.key.token("k1", withIat(kNow + 60))).ok());  // within the 60 s skew
  CHECK(rejection(s.verify(s.key.token("k1", withIat(kNow + 61)))) == JwtRejection::IssuedInFuture);
  CHECK(rejection(s.verify(s.key.token("k1", withIat(kNow + 1)), expect(kNow, 0))) ==
        JwtRejection::IssuedInFuture);
  const std::string textIat =
      R"({"iss":"https://app.example.org","aud":"turn","sub":"alice","exp":1800000600,"iat":"now"})";
  CHECK(rejection(s.verify(s.key.token("k1", textIat))) == JwtRejection::Malformed);
}

TEST_CASE("jwt: a required typ must be in the header, and without one any typ passes") {
  Signer s(JwtAlg::RS256);
  JwtExpectations typed = expect();
  typed.typ = "at+jwt";
  const std::string plain = s.key.token("k1", good());  // typ "JWT"
  CHECK(s.verify(plain).ok());
  CHECK(rejection(s.verify(plain, typed)) == JwtRejection::WrongType);
  CHECK(s.verify(s.key.sign(R"({"alg":"RS256","kid":"k1","typ":"at+jwt"})", good()), typed).ok());
  // RFC 7515 §4.1.9: case-insensitive, "application/" may be left out.
  CHECK(s.verify(s.key.sign(R"({"alg":"RS256","kid":"k1","typ":"application/AT+JWT"})", good()), typed).ok());
  CHECK(rejection(s.verify(s.key.sign(R"({"alg":"RS256","kid":"k1"})", good()), typed)) ==
        JwtRejection::WrongType);
  CHECK(rejection(s.verify(s.key.sign(R"({"alg":"RS256","kid":"k1","typ":7})", good()), typed)) ==
        JwtRejection::WrongType);
  CHECK(toString(JwtRejection::WrongType) == "wrong_type");
  CHECK(toString(JwtRejection::IssuedInFuture) == "issued_in_future");
}

TEST_CASE("base64url: strict alphabet, no padding") {
  CHECK(base64UrlDecode("")->empty());
  CHECK(*base64UrlDecode("_-8") == std::vector<uint8_t>{0xff, 0xef});
  CHECK_FALSE(base64UrlDecode("/+8="));
  CHECK_FALSE(base64UrlDecode("AAA="));
  CHECK_FALSE(base64UrlDecode("A"));
  CHECK_FALSE(base64UrlDecode("AA AA"));
  CHECK(base64UrlEncode({0xff, 0xef}) == "_-8");
}

}  // namespace tw::policy
