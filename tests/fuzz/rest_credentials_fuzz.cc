// libFuzzer target: the REST username parser ("expiry:user"), the expiry
// check and the keyring's candidate keys.
//
// Input: now, max TTL and skew (8 bytes each, any int64 including the
// extremes: UBSan turns an overflow into a finding), then the username.
// Invariants:
//  - a parsed username has expiry > 0, at most kMaxExpiryDigits digits, a
//    user part that is exactly what follows the first colon, and the whole
//    name is at most kMaxUsernameBytes;
//    (so no sign, space or other spelling reaches the integer parser);
//  - checkRestExpiry agrees with the saturating reading of its contract;
//  - candidate keys: one per usable secret, each the MD5 long-term key of
//    the username with HMAC-SHA1(secret, username) as the password.
#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <string>

#include "policy/credentials.h"
#include "relay/base/crypto.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace tw;
using namespace tw::policy;

/// a + b clamped to the int64 range, computed without overflow.
int64_t saturatingAdd(int64_t a, int64_t b) {
  int64_t out;
  if (!__builtin_add_overflow(a, b, &out)) return out;
  return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

void checkParsed(std::string_view name, const RestUsername& r) {
  FUZZ_CHECK(name.size() <= kMaxUsernameBytes);
  FUZZ_CHECK(r.expiry > 0);
  const size_t colon = name.find(':');
  const std::string_view digits = name.substr(0, colon);
  FUZZ_CHECK(!digits.empty() && digits.size() <= kMaxExpiryDigits);
  FUZZ_CHECK(std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }));
  FUZZ_CHECK(r.user == (colon == std::string_view::npos ? std::string_view() : name.substr(colon + 1)));
  int64_t value = 0;
  const auto res = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  FUZZ_CHECK(res.ec == std::errc() && value == r.expiry);
}

void checkExpiry(const RestUsername& r, const CredentialCheck& c) {
  const bool expired = saturatingAdd(r.expiry, c.clockSkewSeconds) < c.nowUnix;
  const bool tooFar = r.expiry > saturatingAdd(saturatingAdd(c.nowUnix, c.maxTtlSeconds), c.clockSkewSeconds);
  const auto st = checkRestExpiry(r, c);
  if (c.maxTtlSeconds < 0 || c.clockSkewSeconds < 0) return;  // no such config; only UB matters
  FUZZ_CHECK(st.ok() == (!expired && !tooFar));
}

void checkKeys(std::string_view name, int64_t now) {
  const Keyring ring({Secret{"a", "first-secret-value-0123456789abcdef", std::nullopt},
                      Secret{"b", "second-secret-value-0123456789abcdef", now}});
  std::array<std::array<uint8_t, 16>, 4> keys{};
  const size_t n = ring.candidateKeys(name, "fuzz.realm", now, keys);
  FUZZ_CHECK(n == 2);
  FUZZ_CHECK(keys[0] == longTermKey(name, "fuzz.realm", restPassword(ring.secrets()[0].value, name)));
  FUZZ_CHECK(keys[1] == longTermKey(name, "fuzz.realm", restPassword(ring.secrets()[1].value, name)));
  FUZZ_CHECK(ring.candidateKeys(name, "fuzz.realm", saturatingAdd(now, 1), keys) ==
             (now == INT64_MAX ? 2u : 1u));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tw::fuzz::FuzzInput in(data, size);
  CredentialCheck check{static_cast<int64_t>(in.u64()), static_cast<int64_t>(in.u64()),
                        static_cast<int64_t>(in.u64())};
  const std::string name(in.text(kMaxUsernameBytes + 64));
  auto parsed = parseRestUsername(name);
  if (!parsed) return 0;
  checkParsed(name, *parsed);
  checkExpiry(*parsed, check);
  checkKeys(name, check.nowUnix);
  return 0;
}
