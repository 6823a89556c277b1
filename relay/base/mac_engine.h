#pragma once
// The MACs and digests of the request path, with their OpenSSL state kept
// between calls.
//
// OpenSSL 3 resolves an algorithm by name, under a lock, on every implicit
// use: HMAC(EVP_sha1(), ...) fetches "HMAC" and "SHA1" and builds a fresh
// context each call. An allocation costs about eleven MACs and digests (the
// nonce, the REST password, the long-term key, MESSAGE-INTEGRITY in and
// out), and that lookup was about a fifth of the server's CPU per
// allocation. A MacEngine fetches each algorithm once, on first use, and
// re-keys one context per algorithm (EVP_MAC_init with a new key keeps the
// digest), which measured 1.9 us -> 0.6 us per HMAC-SHA1 here.
//
// Not thread-safe: the contexts are reused. Each worker's TurnServer owns
// one; one-shot callers (the free functions in crypto.h, tests, tools) build
// a temporary one.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>

#include "relay/base/crypto.h"

namespace tw {

class MacEngine {
 public:
  MacEngine();
  ~MacEngine();
  MacEngine(const MacEngine&) = delete;
  MacEngine& operator=(const MacEngine&) = delete;

  /// HMAC over the concatenation of `parts` (no copy: verifying
  /// MESSAGE-INTEGRITY feeds an adjusted header, then the body). nullopt
  /// only if OpenSSL fails, so a failure can never look like a MAC.
  std::optional<std::array<uint8_t, 20>> hmacSha1(Bytes key, std::initializer_list<Bytes> parts);
  std::optional<std::array<uint8_t, 32>> hmacSha256(Bytes key, std::initializer_list<Bytes> parts);
  /// Digests of the concatenation of `parts`; all zero if OpenSSL fails.
  std::array<uint8_t, 16> md5(std::initializer_list<Bytes> parts);
  std::array<uint8_t, 32> sha256(std::initializer_list<Bytes> parts);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace tw
