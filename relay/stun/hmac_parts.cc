#include "relay/stun/hmac_parts.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>

namespace tw::stun::detail {

namespace {

struct MacDeleter {
  void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

template <size_t N>
std::optional<std::array<uint8_t, N>> hmacParts(const char* digest, Bytes key,
                                                std::initializer_list<Bytes> parts) {
  std::unique_ptr<EVP_MAC, MacDeleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) return std::nullopt;
  std::unique_ptr<EVP_MAC_CTX, MacDeleter> ctx(EVP_MAC_CTX_new(mac.get()));
  if (!ctx) return std::nullopt;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_end()};
  // A non-null pointer even for an empty key: OpenSSL treats a null key as
  // "keep the previous key" and would fail.
  static constexpr uint8_t kEmpty = 0;
  const uint8_t* keyData = key.empty() ? &kEmpty : key.data();
  if (EVP_MAC_init(ctx.get(), keyData, key.size(), params) != 1) return std::nullopt;
  for (Bytes part : parts) {
    if (!part.empty() && EVP_MAC_update(ctx.get(), part.data(), part.size()) != 1) return std::nullopt;
  }
  std::array<uint8_t, N> out{};
  size_t written = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &written, out.size()) != 1 || written != N) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::optional<std::array<uint8_t, 20>> hmacSha1Parts(Bytes key, std::initializer_list<Bytes> parts) {
  return hmacParts<20>("SHA1", key, parts);
}

std::optional<std::array<uint8_t, 32>> hmacSha256Parts(Bytes key, std::initializer_list<Bytes> parts) {
  return hmacParts<32>("SHA256", key, parts);
}

}  // namespace tw::stun::detail
