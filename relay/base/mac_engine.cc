#include "relay/base/mac_engine.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

namespace tw {

namespace {

struct Free {
  void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
  void operator()(EVP_MD* m) const { EVP_MD_free(m); }
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
template <class T>
using Owned = std::unique_ptr<T, Free>;

/// An HMAC context with `digest` set; null if OpenSSL cannot make one.
Owned<EVP_MAC_CTX> hmacContext(Owned<EVP_MAC>& hmac, const char* digest) {
  if (!hmac) hmac.reset(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!hmac) return nullptr;
  Owned<EVP_MAC_CTX> ctx(EVP_MAC_CTX_new(hmac.get()));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_end()};
  if (!ctx || EVP_MAC_CTX_set_params(ctx.get(), params) != 1) return nullptr;
  return ctx;
}

template <size_t N>
std::optional<std::array<uint8_t, N>> runMac(EVP_MAC_CTX* ctx, Bytes key, std::initializer_list<Bytes> parts) {
  if (!ctx) return std::nullopt;
  // A non-null pointer even for an empty key: OpenSSL treats a null key as
  // "keep the previous key", which here would be another caller's.
  static constexpr uint8_t kEmpty = 0;
  const uint8_t* keyData = key.empty() ? &kEmpty : key.data();
  if (EVP_MAC_init(ctx, keyData, key.size(), nullptr) != 1) return std::nullopt;
  for (Bytes part : parts)
    if (!part.empty() && EVP_MAC_update(ctx, part.data(), part.size()) != 1) return std::nullopt;
  std::array<uint8_t, N> out{};
  size_t written = 0;
  if (EVP_MAC_final(ctx, out.data(), &written, out.size()) != 1 || written != N) return std::nullopt;
  return out;
}

template <size_t N>
std::array<uint8_t, N> runDigest(EVP_MD_CTX* ctx, const EVP_MD* md, std::initializer_list<Bytes> parts) {
  std::array<uint8_t, N> out{};
  if (!ctx || !md || EVP_DigestInit_ex2(ctx, md, nullptr) != 1) return out;
  for (Bytes part : parts)
    if (!part.empty() && EVP_DigestUpdate(ctx, part.data(), part.size()) != 1) return std::array<uint8_t, N>{};
  unsigned len = 0;
  if (EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != N) return std::array<uint8_t, N>{};
  return out;
}

}  // namespace

struct MacEngine::State {
  Owned<EVP_MAC> hmac;
  Owned<EVP_MAC_CTX> sha1, sha256;
  Owned<EVP_MD> md5, sha256Md;
  Owned<EVP_MD_CTX> digest{EVP_MD_CTX_new()};
};

MacEngine::MacEngine() : s_(std::make_unique<State>()) {}
MacEngine::~MacEngine() = default;

std::optional<std::array<uint8_t, 20>> MacEngine::hmacSha1(Bytes key, std::initializer_list<Bytes> parts) {
  if (!s_->sha1) s_->sha1 = hmacContext(s_->hmac, "SHA1");
  return runMac<20>(s_->sha1.get(), key, parts);
}

std::optional<std::array<uint8_t, 32>> MacEngine::hmacSha256(Bytes key, std::initializer_list<Bytes> parts) {
  if (!s_->sha256) s_->sha256 = hmacContext(s_->hmac, "SHA256");
  return runMac<32>(s_->sha256.get(), key, parts);
}

std::array<uint8_t, 16> MacEngine::md5(std::initializer_list<Bytes> parts) {
  if (!s_->md5) s_->md5.reset(EVP_MD_fetch(nullptr, "MD5", nullptr));
  return runDigest<16>(s_->digest.get(), s_->md5.get(), parts);
}

std::array<uint8_t, 32> MacEngine::sha256(std::initializer_list<Bytes> parts) {
  if (!s_->sha256Md) s_->sha256Md.reset(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  return runDigest<32>(s_->digest.get(), s_->sha256Md.get(), parts);
}

}  // namespace tw
