#include "policy/jwt.h"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "relay/base/crypto.h"
#include "relay/base/openssl_handles.h"

namespace tw::policy {

namespace {

using nlohmann::json;

/// NumericDates are clamped here so that adding a skew never overflows.
constexpr int64_t kTimeLimit = int64_t(1) << 52;
constexpr size_t kMaxSignatureBytes = 1024;  ///< an 8192-bit RSA signature

struct Segments {
  std::string_view header, payload, signature, signed_;
};

std::optional<Segments> split(std::string_view token) {
  const size_t a = token.find('.');
  const size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) return std::nullopt;
  return Segments{token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1), token.substr(0, b)};
}

/// A base64url segment holding a JSON object; nullopt when it is not one.
/// nlohmann-json's exceptions (syntax, invalid UTF-8) stop here.
std::optional<json> jsonObject(std::string_view segment) {
  auto bytes = base64UrlDecode(segment);
  if (!bytes) return std::nullopt;
  try {
    json j = json::parse(bytes->begin(), bytes->end());
    if (j.is_object()) return j;
  } catch (const json::exception&) {
  }
  return std::nullopt;
}

struct Header {
  JwtAlg alg;
  std::optional<std::string> kid;
};

Result<Header, JwtRejection> readHeader(std::string_view segment) {
  auto h = jsonObject(segment);
  if (!h) return err(JwtRejection::Malformed);
  auto alg = h->find("alg");
  if (alg == h->end() || !alg->is_string()) return err(JwtRejection::Malformed);
  auto known = parseJwtAlg(alg->get_ref<const std::string&>());
  // RFC 7515 §4.1.11: a critical extension we do not understand voids the token.
  if (!known || h->contains("crit")) return err(JwtRejection::BadAlgorithm);
  Header out{*known, std::nullopt};
  if (auto kid = h->find("kid"); kid != h->end()) {
    if (!kid->is_string()) return err(JwtRejection::Malformed);
    out.kid = kid->get<std::string>();
  }
  return out;
}

/// JOSE ES256 signatures are r||s (32 bytes each); OpenSSL wants DER.
std::optional<std::vector<uint8_t>> es256Der(const std::vector<uint8_t>& raw) {
  if (raw.size() != 64) return std::nullopt;
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BignumPtr r(BN_bin2bn(raw.data(), 32, nullptr));
  BignumPtr s(BN_bin2bn(raw.data() + 32, 32, nullptr));
  if (!sig || !r || !s || !ECDSA_SIG_set0(sig.get(), r.get(), s.get())) return std::nullopt;
  r.release();  // the signature owns them now
  s.release();
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::vector<uint8_t> der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  i2d_ECDSA_SIG(sig.get(), &p);
  return der;
}

bool verifySignature(const JwtKey& key, std::string_view signedPart, const std::vector<uint8_t>& sig) {
  std::vector<uint8_t> der;
  const std::vector<uint8_t>* given = &sig;
  if (key.alg == JwtAlg::ES256) {
    auto converted = es256Der(sig);
    if (!converted) return false;
    der = std::move(*converted);
    given = &der;
  } else if (sig.size() != size_t(EVP_PKEY_get_size(key.key.get()))) {
    return false;  // RS256: modulus size; EdDSA: 64 bytes
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const EVP_MD* md = key.alg == JwtAlg::EdDSA ? nullptr : EVP_sha256();  // Ed25519 hashes itself
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), given->data(), given->size(),
                          reinterpret_cast<const unsigned char*>(signedPart.data()), signedPart.size()) == 1;
}

/// A NumericDate (RFC 7519 §2): a JSON number, fractions allowed, clamped.
std::optional<int64_t> numericDate(const json& v) {
  if (v.is_number_unsigned()) return int64_t(std::min<uint64_t>(v.get<uint64_t>(), kTimeLimit));
  if (v.is_number_integer()) return std::clamp<int64_t>(v.get<int64_t>(), -kTimeLimit, kTimeLimit);
  if (!v.is_number_float() || !std::isfinite(v.get<double>())) return std::nullopt;
  return int64_t(std::clamp(std::floor(v.get<double>()), -double(kTimeLimit), double(kTimeLimit)));
}

bool audienceMatches(const json& aud, std::span<const std::string> wanted) {
  auto ok = [&](const json& v) {
    return v.is_string() && std::find(wanted.begin(), wanted.end(), v.get_ref<const std::string&>()) != wanted.end();
  };
  if (aud.is_array()) return std::any_of(aud.begin(), aud.end(), ok);
  return ok(aud);
}

Result<JwtClaims, JwtRejection> readClaims(const json& c, const JwtExpectations& x) {
  const int64_t skew = std::clamp<int64_t>(x.clockSkewSeconds, 0, kTimeLimit);
  const int64_t now = std::clamp<int64_t>(x.nowUnix, 0, kTimeLimit);
  auto iss = c.find("iss");
  if (iss == c.end() || !iss->is_string() || iss->get_ref<const std::string&>() != x.issuer)
    return err(JwtRejection::WrongIssuer);
  auto aud = c.find("aud");
  if (aud == c.end() || !audienceMatches(*aud, x.audiences)) return err(JwtRejection::WrongAudience);
  auto expItem = c.find("exp");
  auto exp = expItem == c.end() ? std::nullopt : numericDate(*expItem);
  if (!exp) return err(JwtRejection::MissingExpiry);
  if (now >= *exp + skew) return err(JwtRejection::Expired);
  if (auto nbfItem = c.find("nbf"); nbfItem != c.end()) {
    auto nbf = numericDate(*nbfItem);
    if (!nbf) return err(JwtRejection::Malformed);
    if (now + skew < *nbf) return err(JwtRejection::NotYetValid);
  }
  auto sub = c.find("sub");
  if (sub == c.end() || !sub->is_string() || sub->get_ref<const std::string&>().empty())
    return err(JwtRejection::MissingSubject);
  return JwtClaims{sub->get<std::string>(), *exp};
}

}  // namespace

std::string_view toString(JwtRejection r) {
  switch (r) {
    case JwtRejection::Malformed: return "malformed";
    case JwtRejection::Oversize: return "oversize";
    case JwtRejection::BadAlgorithm: return "bad_algorithm";
    case JwtRejection::UnknownKey: return "unknown_key";
    case JwtRejection::BadSignature: return "bad_signature";
    case JwtRejection::Expired: return "expired";
    case JwtRejection::NotYetValid: return "not_yet_valid";
    case JwtRejection::WrongIssuer: return "wrong_issuer";
    case JwtRejection::WrongAudience: return "wrong_audience";
    case JwtRejection::MissingSubject: return "missing_subject";
    case JwtRejection::MissingExpiry: return "missing_expiry";
  }
  return "?";
}

Result<JwtClaims, JwtRejection> verifyJwt(std::string_view token, const Jwks& keys,
                                          const JwtExpectations& expect) {
  if (token.size() > kMaxJwtBytes) return err(JwtRejection::Oversize);
  auto seg = split(token);
  if (!seg) return err(JwtRejection::Malformed);
  if (seg->header.size() > kMaxJwtHeaderBytes) return err(JwtRejection::Oversize);
  auto header = readHeader(seg->header);
  if (!header) return err(header.error());
  const JwtKey* key = keys.find(header->kid, header->alg);
  if (!key) return err(JwtRejection::UnknownKey);
  auto sig = base64UrlDecode(seg->signature);
  if (!sig || sig->empty() || sig->size() > kMaxSignatureBytes) return err(JwtRejection::Malformed);
  if (!verifySignature(*key, seg->signed_, *sig)) return err(JwtRejection::BadSignature);
  auto claims = jsonObject(seg->payload);
  if (!claims) return err(JwtRejection::Malformed);
  return readClaims(*claims, expect);
}

std::string turnUserFor(std::string_view sub) {
  auto plain = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '@' || c == '+' ||
           c == '-';
  };
  if (!sub.empty() && sub.size() <= kMaxPlainTurnUser && std::all_of(sub.begin(), sub.end(), plain))
    return std::string(sub);
  const auto digest = sha256(asBytes(sub));
  return "~" + hexEncode(Bytes(digest.data(), 16));
}

}  // namespace tw::policy
