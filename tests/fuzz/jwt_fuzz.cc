// libFuzzer target: the credentials endpoint's JWT verification and JWKS
// parser (policy/jwt.h, policy/jwt_keys.h), both fed by untrusted text: the
// token comes from any browser, the JWKS from an application's export.
//
// The first byte picks the mode.
//  - JWKS (even): the rest is a JWKS document for Jwks::parse.
//  - token (odd): now and clock skew (any int64), then how the token is made:
//      0 the rest is the token text as it is;
//      1 header and payload JSON from the input, signed here with a fixed
//        Ed25519 key (so the claims checks after the signature are reached);
//      2 header, payload and signature bytes from the input, each base64url
//        encoded here (so the key lookup and every verifier is reached);
//      3 as 1, then one signature byte flipped: a forgery.
//    It is verified against a fixed key set: that Ed25519 key (kid "ed"), an
//    ES256 key ("ec") and an RS256 key ("rs") whose private halves nobody uses.
//
// Invariants:
//  - nothing throws (nlohmann-json's exceptions must stop in policy/) and no
//    input crashes or trips a sanitizer;
//  - an accepted token carries exactly the signature the fixed Ed25519 key
//    makes over its first two segments (Ed25519 is deterministic): nothing
//    else verifies, whatever its header says (alg none, HS256, kid games);
//    a flipped signature is never accepted;
//  - an accepted token has a sub, is not expired by the clamped clock, and
//    turnUserFor(sub) is the sub itself or "~" and 32 hex digits, never with
//    a ':' (it becomes the user part of a REST username);
//  - a parsed JWKS has 1..64 keys, each with an OpenSSL key and a distinct
//    kid, and find(kid, alg) returns that key (and no key for another alg);
//  - base64url: decoding what was encoded gives the bytes back.
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "policy/jwt.h"
#include "policy/jwt_keys.h"
#include "relay/base/openssl_handles.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/support/jwt_signer.h"

namespace {

using namespace tw;
using namespace tw::policy;

constexpr const char* kIssuer = "https://issuer.example";
const std::array<std::string, 2> kAudiences = {"turn", "app"};

/// The fixed Ed25519 key: private key from a constant seed, so a corpus
/// token signed with it replays the same in every process.
struct Signer {
  std::shared_ptr<evp_pkey_st> key;

  Signer() {
    std::array<uint8_t, 32> seed{};
    for (size_t i = 0; i < seed.size(); ++i) seed[i] = uint8_t(0xA0 + i);
    key = PkeyPtr(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
    FUZZ_CHECK(key != nullptr);
  }
  std::vector<uint8_t> sign(std::string_view input) const {
    const MdCtxPtr ctx(EVP_MD_CTX_new());
    std::vector<uint8_t> sig(64);
    size_t len = sig.size();
    FUZZ_CHECK(ctx && EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1);
    FUZZ_CHECK(EVP_DigestSign(ctx.get(), sig.data(), &len, reinterpret_cast<const unsigned char*>(input.data()),
                              input.size()) == 1 && len == 64);
    return sig;
  }
  std::string jwk() const {
    std::vector<uint8_t> x(32);
    size_t len = x.size();
    FUZZ_CHECK(EVP_PKEY_get_raw_public_key(key.get(), x.data(), &len) == 1);
    return "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"ed\",\"x\":\"" + base64UrlEncode(x) + "\"}";
  }
};

struct Fixture {
  Signer signer;
  Jwks keys;

  Fixture() {
    const auto ec = testing::TestKey::generate(JwtAlg::ES256);
    const auto rs = testing::TestKey::generate(JwtAlg::RS256);
    auto parsed = Jwks::parse(testing::jwksOf({signer.jwk(), ec.jwk("ec"), rs.jwk("rs")}));
    FUZZ_CHECK(parsed.ok() && parsed.value().size() == 3);
    keys = std::move(parsed.value());
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

std::string b64(std::span<const uint8_t> bytes) {
  const std::vector<uint8_t> v(bytes.begin(), bytes.end());
  const std::string out = base64UrlEncode(v);
  FUZZ_CHECK(base64UrlDecode(out) == v);
  return out;
}

std::string makeToken(tw::fuzz::FuzzInput& in, uint8_t how) {
  if (how == 0) return std::string(in.text(kMaxJwtBytes + 64));
  const std::string signedPart = b64(in.chunk(1200)) + "." + b64(in.chunk(4096));
  if (how == 2) return signedPart + "." + b64(in.chunk(600));
  std::vector<uint8_t> sig = fixture().signer.sign(signedPart);
  if (how == 3) sig[in.u8() % sig.size()] ^= uint8_t(1u << (in.u8() % 8));
  return signedPart + "." + b64(sig);
}

void checkAccepted(const std::string& token, const JwtClaims& claims, const JwtExpectations& x) {
  FUZZ_CHECK(token.size() <= kMaxJwtBytes);
  const size_t lastDot = token.rfind('.');
  FUZZ_CHECK(lastDot != std::string::npos);
  const std::string_view signedPart = std::string_view(token).substr(0, lastDot);
  FUZZ_CHECK(token.substr(lastDot + 1) == base64UrlEncode(fixture().signer.sign(signedPart)));
  FUZZ_CHECK(!claims.sub.empty());
  constexpr int64_t kLimit = int64_t(1) << 52;  // jwt.cc clamps dates and skew here
  FUZZ_CHECK(std::clamp<int64_t>(x.nowUnix, 0, kLimit) < claims.exp + std::clamp<int64_t>(x.clockSkewSeconds, 0, kLimit));
  const std::string user = turnUserFor(claims.sub);
  FUZZ_CHECK(user.find(':') == std::string::npos);
  if (user != claims.sub) {
    FUZZ_CHECK(user.size() == 33 && user[0] == '~');
    FUZZ_CHECK(std::all_of(user.begin() + 1, user.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }));
  } else {
    FUZZ_CHECK(!user.empty() && user.size() <= kMaxPlainTurnUser);
  }
}

void fuzzToken(tw::fuzz::FuzzInput& in) {
  JwtExpectations x{kIssuer, kAudiences, static_cast<int64_t>(in.u64()), static_cast<int64_t>(in.u64())};
  const uint8_t how = in.u8() % 4;
  const std::string token = makeToken(in, how);
  auto result = verifyJwt(token, fixture().keys, x);
  if (how == 3) FUZZ_CHECK(!result.ok());
  if (result.ok()) checkAccepted(token, result.value(), x);
}

void fuzzJwks(std::string_view text) {
  auto parsed = Jwks::parse(text);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty());
    FUZZ_CHECK(parsed.error().byte <= text.size() + 1);
    return;
  }
  const Jwks& set = parsed.value();
  FUZZ_CHECK(set.size() >= 1 && set.size() <= 64);
  for (const JwtKey& k : set.keys()) {
    FUZZ_CHECK(k.key != nullptr);
    FUZZ_CHECK(std::count_if(set.keys().begin(), set.keys().end(), [&](const JwtKey& o) { return o.kid == k.kid; }) == 1);
    FUZZ_CHECK(set.find(k.kid, k.alg) == &k);
    for (JwtAlg other : {JwtAlg::RS256, JwtAlg::ES256, JwtAlg::EdDSA})
      if (other != k.alg) FUZZ_CHECK(set.find(k.kid, other) == nullptr);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tw::fuzz::FuzzInput in(data, size);
  if (in.u8() & 1) {
    fuzzToken(in);
  } else {
    fuzzJwks(in.text(size));
  }
  return 0;
}
