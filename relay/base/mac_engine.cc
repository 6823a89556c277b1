#include "relay/base/mac_engine.h"

#include <algorithm>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "relay/base/openssl_handles.h"

namespace tw {

namespace {


/// An HMAC context with `digest` set; null if OpenSSL cannot make one.
MacCtxPtr hmacContext(MacPtr& hmac, const char* digest) {
  if (!hmac) hmac.reset(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!hmac) return nullptr;
  MacCtxPtr ctx(EVP_MAC_CTX_new(hmac.get()));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_end()};
  if (!ctx || EVP_MAC_CTX_set_params(ctx.get(), params) != 1) return nullptr;
  return ctx;
}

/// The HMAC contexts of one digest, each keyed with the last key it was
/// given. A key seen again (the nonce key, a REST secret, one user's
/// long-term key for the request's check and the answer's signature) reuses
/// its context's precomputed pads: EVP_MAC_init with a null key re-inits
/// with the same key, which costs a state copy instead of two compressions
/// and the key schedule. A new key takes the least recently used context.
class KeyedMacs {
 public:
  explicit KeyedMacs(const char* digest) : digest_(digest) {}
  ~KeyedMacs() {
    for (Slot& s : slots_) OPENSSL_cleanse(s.key.data(), s.key.size());
  }

  /// A context ready for EVP_MAC_update with `key`; null if OpenSSL fails.
  EVP_MAC_CTX* init(MacPtr& hmac, Bytes key) {
    ++clock_;
    if (Slot* s = find(key)) {
      s->used = clock_;
      return EVP_MAC_init(s->ctx.get(), nullptr, 0, nullptr) == 1 ? s->ctx.get() : nullptr;
    }
    Slot& s = leastRecent();  // unkeyed until EVP_MAC_init succeeds
    if (!s.ctx) s.ctx = hmacContext(hmac, digest_);
    if (!s.ctx) return nullptr;
    // A non-null pointer even for an empty key: OpenSSL treats a null key
    // as "keep the previous key".
    static constexpr uint8_t kEmpty = 0;
    if (EVP_MAC_init(s.ctx.get(), key.empty() ? &kEmpty : key.data(), key.size(), nullptr) != 1)
      return nullptr;
    if (key.size() <= s.key.size()) {  // longer keys are not kept (nor reused)
      std::copy(key.begin(), key.end(), s.key.begin());
      s.length = key.size();
      s.keyed = true;
    }
    s.used = clock_;
    return s.ctx.get();
  }

 private:
  struct Slot {
    MacCtxPtr ctx;
    std::array<uint8_t, 64> key{};
    size_t length = 0;
    bool keyed = false;
    uint64_t used = 0;
  };

  Slot* find(Bytes key) {
    for (Slot& s : slots_)
      if (s.keyed && s.length == key.size() && CRYPTO_memcmp(s.key.data(), key.data(), key.size()) == 0)
        return &s;
    return nullptr;
  }
  Slot& leastRecent() {
    Slot* oldest = &slots_[0];
    for (Slot& s : slots_)
      if (s.used < oldest->used) oldest = &s;
    oldest->keyed = false;
    return *oldest;
  }

  const char* digest_;
  std::array<Slot, 4> slots_;
  uint64_t clock_ = 0;
};

template <size_t N>
std::optional<std::array<uint8_t, N>> runMac(EVP_MAC_CTX* ctx, std::initializer_list<Bytes> parts) {
  if (!ctx) return std::nullopt;
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
  MacPtr hmac;
  KeyedMacs sha1{"SHA1"}, sha256{"SHA256"};
  MdPtr md5, sha256Md;
  MdCtxPtr digest{EVP_MD_CTX_new()};
};

MacEngine::MacEngine() : s_(std::make_unique<State>()) {}
MacEngine::~MacEngine() = default;

std::optional<std::array<uint8_t, 20>> MacEngine::hmacSha1(Bytes key, std::initializer_list<Bytes> parts) {
  return runMac<20>(s_->sha1.init(s_->hmac, key), parts);
}

std::optional<std::array<uint8_t, 32>> MacEngine::hmacSha256(Bytes key, std::initializer_list<Bytes> parts) {
  return runMac<32>(s_->sha256.init(s_->hmac, key), parts);
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
