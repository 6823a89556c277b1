#include "policy/duration.h"

#include <array>
#include <charconv>
#include <cstdint>

namespace tw::policy {
namespace {

struct Unit {
  std::string_view suffix;
  int64_t millis;
};

// Largest first: formatDuration walks this order, parseDuration enforces it.
constexpr std::array<Unit, 5> kUnits{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

bool isDigit(char c) { return c >= '0' && c <= '9'; }

/// Reads the unit at the start of `text`; "ms" wins over "m". Returns the
/// index into kUnits, or -1.
int matchUnit(std::string_view text) {
  if (text.starts_with("ms")) return 4;
  for (int i = 0; i < 4; ++i) {
    if (text.starts_with(kUnits[i].suffix)) return i;
  }
  return -1;
}

/// Parses the leading digits of `text` into `out`, advancing `text`.
bool takeNumber(std::string_view& text, int64_t& out) {
  size_t n = 0;
  while (n < text.size() && isDigit(text[n])) ++n;
  if (n == 0) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + n, out);
  if (ec != std::errc{} || end != text.data() + n) return false;
  text.remove_prefix(n);
  return true;
}

bool addScaled(int64_t& total, int64_t count, int64_t scale) {
  int64_t part = 0;
  if (__builtin_mul_overflow(count, scale, &part)) return false;
  return !__builtin_add_overflow(total, part, &total);
}

}  // namespace

std::optional<tw::Duration> parseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  int lastUnit = -1;
  while (!text.empty()) {
    int64_t count = 0;
    if (!takeNumber(text, count)) return std::nullopt;
    int unit = matchUnit(text);
    if (unit < 0) {
      // A bare integer is seconds, but only as the whole text ("90", not "1m30").
      if (!text.empty() || lastUnit >= 0) return std::nullopt;
      unit = 3;
    } else {
      if (unit <= lastUnit) return std::nullopt;
      text.remove_prefix(kUnits[unit].suffix.size());
    }
    lastUnit = unit;
    if (!addScaled(total, count, kUnits[unit].millis)) return std::nullopt;
  }
  return tw::Duration{total};
}

std::string formatDuration(tw::Duration d) {
  int64_t signedMs = d.count();
  if (signedMs == 0) return "0s";
  // Work on the magnitude as unsigned so that INT64_MIN does not overflow.
  uint64_t ms = signedMs < 0 ? 0 - static_cast<uint64_t>(signedMs) : static_cast<uint64_t>(signedMs);
  std::string out = signedMs < 0 ? "-" : "";
  for (const Unit& u : kUnits) {
    uint64_t scale = static_cast<uint64_t>(u.millis);
    if (ms < scale) continue;
    out += std::to_string(ms / scale);
    out += u.suffix;
    ms %= scale;
  }
  return out;
}

}  // namespace tw::policy
