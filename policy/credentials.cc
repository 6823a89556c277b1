#include "policy/credentials.h"

#include <limits>

#include "relay/base/crypto.h"
#include "relay/base/mac_engine.h"

namespace tw::policy {
namespace {

/// a + b clamped to the int64 range, so hostile or misconfigured values
/// (a huge max TTL) cannot wrap around and flip a comparison.
int64_t saturatingAdd(int64_t a, int64_t b) {
  int64_t r = 0;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

/// Digits only, 1..kMaxExpiryDigits of them, value > 0. Written by hand so
/// that no locale, sign, whitespace or overflow rule of a library parser
/// applies.
std::optional<int64_t> parseExpiry(std::string_view digits) {
  if (digits.empty() || digits.size() > kMaxExpiryDigits) return std::nullopt;
  int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');  // <= 12 digits: cannot overflow
  }
  if (value <= 0) return std::nullopt;
  return value;
}

}  // namespace

std::string_view toString(AuthFailure f) {
  switch (f) {
    case AuthFailure::BadIntegrity:
      return "bad_integrity";
    case AuthFailure::Expired:
      return "expired";
    case AuthFailure::MalformedUsername:
      return "malformed_username";
    case AuthFailure::UnknownUser:
      return "unknown_user";
    case AuthFailure::StaleNonce:
      return "stale_nonce";
    case AuthFailure::OverMaxTtl:
      return "over_max_ttl";
    case AuthFailure::MissingAttributes:
      return "missing_attributes";
    case AuthFailure::Blocked:
      return "blocked";
  }
  return "unknown";
}

Result<RestUsername, AuthFailure> parseRestUsername(std::string_view username) {
  if (username.empty() || username.size() > kMaxUsernameBytes) return err(AuthFailure::MalformedUsername);
  const size_t colon = username.find(':');
  const std::string_view expiryText = username.substr(0, colon);
  const auto expiry = parseExpiry(expiryText);
  if (!expiry) return err(AuthFailure::MalformedUsername);
  const std::string_view user =
      colon == std::string_view::npos ? std::string_view{} : username.substr(colon + 1);
  return RestUsername{*expiry, user};
}

std::string restPassword(std::string_view secret, std::string_view username) {
  MacEngine engine;
  return restPassword(secret, username, engine);
}

std::string restPassword(std::string_view secret, std::string_view username, MacEngine& engine) {
  const auto mac = engine.hmacSha1(asBytes(secret), {asBytes(username)});
  return base64Encode(mac.value_or(std::array<uint8_t, 20>{}));
}

std::array<uint8_t, 16> longTermKey(std::string_view username, std::string_view realm,
                                    std::string_view password) {
  return longTermKeyMd5(username, realm, password);
}

std::array<uint8_t, 16> longTermKey(std::string_view username, std::string_view realm,
                                    std::string_view password, MacEngine& engine) {
  return longTermKeyMd5(engine, username, realm, password);
}

Status<AuthFailure> checkRestExpiry(const RestUsername& username, const CredentialCheck& check) {
  const int64_t skew = check.clockSkewSeconds < 0 ? 0 : check.clockSkewSeconds;
  if (saturatingAdd(username.expiry, skew) < check.nowUnix) return err(AuthFailure::Expired);
  const int64_t latest = saturatingAdd(saturatingAdd(check.nowUnix, check.maxTtlSeconds), skew);
  if (username.expiry > latest) return err(AuthFailure::OverMaxTtl);
  return {};
}

bool isUsable(const Secret& s, int64_t nowUnix) { return !s.notAfter || nowUnix <= *s.notAfter; }

Keyring::Keyring(std::vector<Secret> secrets) : secrets_(std::move(secrets)) {}

const Secret* Keyring::minting(int64_t nowUnix) const {
  for (const Secret& s : secrets_)
    if (isUsable(s, nowUnix)) return &s;
  return nullptr;
}

size_t Keyring::candidateKeys(std::string_view username, std::string_view realm, int64_t nowUnix,
                              std::span<std::array<uint8_t, 16>> out) const {
  MacEngine engine;
  return candidateKeys(username, realm, nowUnix, out, engine);
}

size_t Keyring::candidateKeys(std::string_view username, std::string_view realm, int64_t nowUnix,
                              std::span<std::array<uint8_t, 16>> out, MacEngine& engine) const {
  size_t n = 0;
  for (const Secret& s : secrets_) {
    if (n == out.size()) break;
    if (!isUsable(s, nowUnix)) continue;
    out[n++] = longTermKey(username, realm, restPassword(s.value, username, engine), engine);
  }
  return n;
}

std::optional<MintedCredential> mintCredential(const Keyring& keyring, std::string_view user,
                                               int64_t ttlSeconds, int64_t nowUnix) {
  const Secret* secret = keyring.minting(nowUnix);
  if (!secret || ttlSeconds <= 0) return std::nullopt;
  std::string username = std::to_string(saturatingAdd(nowUnix, ttlSeconds));
  if (!user.empty()) username.append(":").append(user);
  if (username.size() > kMaxUsernameBytes || !parseRestUsername(username)) return std::nullopt;
  std::string password = restPassword(secret->value, username);
  return MintedCredential{std::move(username), std::move(password), ttlSeconds};
}

const StaticUser* findStaticUser(std::span<const StaticUser> users, std::string_view name) {
  if (name.empty()) return nullptr;
  for (const StaticUser& u : users)
    if (u.name == name) return &u;
  return nullptr;
}

}  // namespace tw::policy
