#pragma once
// Stateless NONCEs (RFC 8489 9.2). An unauthenticated request must not make
// the server keep state (threats.md, DoS), so the nonce carries its own
// expiry and a MAC binding it to the client's IP:
//
//   +------------------------------+------------------------------------+
//   | expiry, whole seconds of the | HMAC-SHA256(key, "tw-nonce-v1" ||  |
//   | monotonic clock, 8 lowercase | expiry(8, BE) || family(1) ||      |
//   | hex                          | client IP(4|16)), first 12 bytes   |
//   |                              | as 16 base64url characters         |
//   +------------------------------+------------------------------------+
//   24 printable characters in all: short, because the NONCE rides in every
//   401 and each byte of an unauthenticated answer is amplification.
//
// The key comes from the CSPRNG at start-up, so nonces die with the process
// (clients simply get a 438 and retry with a fresh one).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "relay/base/address.h"
#include "relay/base/clock.h"
#include "relay/base/crypto.h"

namespace tw::policy {

/// Both Stale and Invalid are answered with 438 and a fresh nonce; they are
/// kept apart so metrics show forgery/replay attempts separately from
/// ordinary expiry.
enum class NonceStatus { Valid, Stale, Invalid };

/// "valid", "stale", "invalid": stable metric label values.
std::string_view toString(NonceStatus s);

class NonceService {
 public:
  static constexpr size_t kNonceLength = 24;

  /// `key` must come from a CSPRNG; `lifetime` is how long an issued nonce
  /// verifies as Valid.
  NonceService(std::array<uint8_t, 32> key, Duration lifetime);

  /// A nonce for `client` valid until now + lifetime. Printable ASCII,
  /// kNonceLength characters, deterministic for (client, now).
  std::string issue(const IpAddress& client, Instant now) const;
  /// With the caller's engine (the worker's, on the request path).
  std::string issue(const IpAddress& client, Instant now, MacEngine& engine) const;

  /// Invalid: wrong length, any character other than [0-9a-f], a MAC that
  /// does not match (tampered, forged, or issued to another IP -- a nonce
  /// replayed from a different address is indistinguishable from a forgery),
  /// or an expiry further ahead than one lifetime. Stale: authentic but
  /// past its expiry. The MAC is compared in constant time and checked
  /// before the expiry, so an attacker cannot probe with forged expiries.
  NonceStatus verify(std::string_view nonce, const IpAddress& client, Instant now) const;
  NonceStatus verify(std::string_view nonce, const IpAddress& client, Instant now, MacEngine& engine) const;

  Duration lifetime() const { return lifetime_; }

 private:
  std::array<uint8_t, 12> mac(uint64_t expirySeconds, const IpAddress& client, MacEngine& engine) const;

  std::array<uint8_t, 32> key_;
  Duration lifetime_;
};

}  // namespace tw::policy
