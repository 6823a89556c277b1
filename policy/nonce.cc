#include "policy/nonce.h"

#include <algorithm>
#include <optional>

#include "relay/base/crypto.h"
#include "relay/base/mac_engine.h"

namespace tw::policy {
namespace {

constexpr size_t kExpiryHexChars = 8;  // expiry in whole seconds, 32 bits
constexpr std::string_view kDomain = "tw-nonce-v1";

bool isLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/// Strict: exactly 8 lowercase hex digits. Strictness keeps exactly one
/// spelling per nonce (no "ABC" vs "abc" twins).
std::optional<uint64_t> parseExpiryHex(std::string_view text) {
  if (text.size() != kExpiryHexChars) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (!isLowerHex(c)) return std::nullopt;
    v = (v << 4) | static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return v;
}

std::string hex8(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(kExpiryHexChars, '0');
  for (size_t i = kExpiryHexChars; i-- > 0; v >>= 4) out[i] = kDigits[v & 0xf];
  return out;
}

uint64_t toMs(Instant t) { return static_cast<uint64_t>(t.time_since_epoch().count()); }
uint64_t toSeconds(Instant t) { return toMs(t) / 1000; }

/// base64url without padding: 12 MAC bytes are exactly 16 characters.
std::string macText(const std::array<uint8_t, 12>& mac) {
  std::string s = base64Encode(mac);
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return s;
}

}  // namespace

std::string_view toString(NonceStatus s) {
  switch (s) {
    case NonceStatus::Valid:
      return "valid";
    case NonceStatus::Stale:
      return "stale";
    case NonceStatus::Invalid:
      return "invalid";
  }
  return "invalid";
}

NonceService::NonceService(std::array<uint8_t, 32> key, Duration lifetime) : key_(key), lifetime_(lifetime) {}

std::array<uint8_t, 12> NonceService::mac(uint64_t expirySeconds, const IpAddress& client,
                                          MacEngine& engine) const {
  std::array<uint8_t, kDomain.size() + 8 + 1 + 16> data{};  // fixed: no heap per request
  size_t n = 0;
  for (char c : kDomain) data[n++] = static_cast<uint8_t>(c);
  for (int shift = 56; shift >= 0; shift -= 8) data[n++] = static_cast<uint8_t>(expirySeconds >> shift);
  data[n++] = static_cast<uint8_t>(client.family());
  const size_t ipLen = client.isV4() ? 4 : 16;
  for (size_t i = 0; i < ipLen; ++i) data[n++] = client.bytes()[i];
  const auto full = engine.hmacSha256(key_, {Bytes(data.data(), n)}).value_or(std::array<uint8_t, 32>{});
  std::array<uint8_t, 12> out;
  std::copy_n(full.begin(), out.size(), out.begin());
  return out;
}

std::string NonceService::issue(const IpAddress& client, Instant now) const {
  MacEngine engine;
  return issue(client, now, engine);
}

std::string NonceService::issue(const IpAddress& client, Instant now, MacEngine& engine) const {
  // Short on purpose: the NONCE rides in every 401, and each byte of an
  // unauthenticated answer adds to the amplification factor.
  const uint64_t expiry = toSeconds(now + lifetime_);
  return hex8(expiry) + macText(mac(expiry, client, engine));
}

NonceStatus NonceService::verify(std::string_view nonce, const IpAddress& client, Instant now) const {
  MacEngine engine;
  return verify(nonce, client, now, engine);
}

NonceStatus NonceService::verify(std::string_view nonce, const IpAddress& client, Instant now,
                                 MacEngine& engine) const {
  if (nonce.size() != kNonceLength) return NonceStatus::Invalid;
  const auto expiry = parseExpiryHex(nonce.substr(0, kExpiryHexChars));
  if (!expiry) return NonceStatus::Invalid;
  const std::string expected = macText(mac(*expiry, client, engine));
  if (!constantTimeEqual(asBytes(expected), asBytes(nonce.substr(kExpiryHexChars))))
    return NonceStatus::Invalid;
  if (*expiry > toSeconds(now + lifetime_)) return NonceStatus::Invalid;
  if (*expiry * 1000 < toMs(now)) return NonceStatus::Stale;
  return NonceStatus::Valid;
}

}  // namespace tw::policy
