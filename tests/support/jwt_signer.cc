#include "tests/support/jwt_signer.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <stdexcept>

#include "relay/base/crypto.h"
#include "relay/base/json.h"
#include "relay/base/openssl_handles.h"

namespace tw::testing {

namespace {

std::string bn(const EVP_PKEY* k, const char* name, int pad = 0) {
  BIGNUM* raw = nullptr;
  if (!EVP_PKEY_get_bn_param(k, name, &raw)) throw std::runtime_error("no key param");
  const BignumPtr v(raw);
  std::vector<uint8_t> out(size_t(pad ? pad : BN_num_bytes(v.get())));
  BN_bn2binpad(v.get(), out.data(), int(out.size()));
  return policy::base64UrlEncode(out);
}

std::string pem(EVP_PKEY* k, bool priv) {
  const BioPtr bio(BIO_new(BIO_s_mem()));
  if (priv) PEM_write_bio_PrivateKey(bio.get(), k, nullptr, nullptr, 0, nullptr, nullptr);
  else PEM_write_bio_PUBKEY(bio.get(), k);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size_t(n));
}

/// JOSE ES256: the DER ECDSA signature as r||s, 32 bytes each.
std::vector<uint8_t> derToRaw(const std::vector<uint8_t>& der) {
  const unsigned char* p = der.data();
  const EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, long(der.size())));
  std::vector<uint8_t> raw(64);
  BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw.data(), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw.data() + 32, 32);
  return raw;
}

}  // namespace

std::string b64url(std::string_view bytes) {
  return policy::base64UrlEncode(std::vector<uint8_t>(bytes.begin(), bytes.end()));
}

TestKey TestKey::generate(policy::JwtAlg alg) {
  TestKey k;
  k.alg_ = alg;
  EVP_PKEY* raw = alg == policy::JwtAlg::RS256   ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(2048))
                  : alg == policy::JwtAlg::ES256 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                                                 : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!raw) throw std::runtime_error("key generation failed");
  k.key_ = PkeyPtr(raw);
  return k;
}

TestKey TestKey::rsa(unsigned bits) {
  TestKey k;
  k.alg_ = policy::JwtAlg::RS256;
  k.key_ = PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(bits)));
  if (!k.key_) throw std::runtime_error("key generation failed");
  return k;
}

std::string TestKey::jwk(const std::string& kid) const {
  std::string body;
  if (alg_ == policy::JwtAlg::RS256) {
    body = "\"kty\":\"RSA\",\"n\":\"" + bn(key_.get(), OSSL_PKEY_PARAM_RSA_N) + "\",\"e\":\"" +
           bn(key_.get(), OSSL_PKEY_PARAM_RSA_E) + "\"";
  } else if (alg_ == policy::JwtAlg::ES256) {
    body = "\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + bn(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32) +
           "\",\"y\":\"" + bn(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32) + "\"";
  } else {
    std::vector<uint8_t> x(32);
    size_t len = x.size();
    EVP_PKEY_get_raw_public_key(key_.get(), x.data(), &len);
    body = "\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" + policy::base64UrlEncode(x) + "\"";
  }
  if (!kid.empty()) body += ",\"kid\":" + jsonString(kid);
  return "{" + body + ",\"use\":\"sig\"}";
}

std::string TestKey::sign(std::string_view headerJson, std::string_view payloadJson) const {
  const std::string input = b64url(headerJson) + "." + b64url(payloadJson);
  const MdCtxPtr ctx(EVP_MD_CTX_new());
  const EVP_MD* md = alg_ == policy::JwtAlg::EdDSA ? nullptr : EVP_sha256();
  size_t len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1)
    throw std::runtime_error("sign failed");
  std::vector<uint8_t> sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1)
    throw std::runtime_error("sign failed");
  sig.resize(len);
  if (alg_ == policy::JwtAlg::ES256) sig = derToRaw(sig);
  return input + "." + policy::base64UrlEncode(sig);
}

std::string TestKey::token(const std::string& kid, std::string_view payloadJson) const {
  std::string header = "{\"alg\":\"" + std::string(policy::toString(alg_)) + "\",\"typ\":\"JWT\"";
  if (!kid.empty()) header += ",\"kid\":" + jsonString(kid);
  return sign(header + "}", payloadJson);
}

std::string TestKey::publicPem() const { return pem(key_.get(), false); }
std::string TestKey::privatePem() const { return pem(key_.get(), true); }

std::string jwksOf(const std::vector<std::string>& jwks) {
  std::string out;
  for (const auto& j : jwks) out += (out.empty() ? "" : ",") + j;
  return "{\"keys\":[" + out + "]}";
}

std::string claims(std::string_view iss, std::string_view aud, std::string_view sub, int64_t exp, int64_t nbf) {
  std::string out = "{\"iss\":" + jsonString(iss) + ",\"aud\":" + jsonString(aud);
  if (!sub.empty()) out += ",\"sub\":" + jsonString(sub);
  if (exp) out += ",\"exp\":" + std::to_string(exp);
  if (nbf) out += ",\"nbf\":" + std::to_string(nbf);
  return out + "}";
}

std::string hs256Token(std::string_view headerJson, std::string_view payloadJson, std::string_view secret) {
  const std::string input = b64url(headerJson) + "." + b64url(payloadJson);
  const auto mac = hmacSha256(asBytes(secret), asBytes(input));
  return input + "." + policy::base64UrlEncode(std::vector<uint8_t>(mac.begin(), mac.end()));
}

}  // namespace tw::testing
