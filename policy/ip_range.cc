#include "policy/ip_range.h"

#include <bit>
#include <charconv>

#include "relay/base/log.h"

namespace tw::policy {
namespace {

int familyBits(Family f) { return f == Family::V4 ? 32 : 128; }

/// Numeric value of an address in a family-independent integer.
U128 valueOf(const IpAddress& a) { return a.isV4() ? U128{a.v4Value()} : a.v6Value(); }

IpAddress addressOf(Family f, U128 v) {
  return f == Family::V4 ? IpAddress::v4(static_cast<uint32_t>(v)) : IpAddress::v6(v);
}

/// Mask of the host bits for a prefix: all ones in the low (bits - prefix)
/// bits. Written without shifting by the full width, which is undefined.
U128 hostMask(Family f, int prefix) {
  const int hostBits = familyBits(f) - prefix;
  if (hostBits <= 0) return 0;
  if (hostBits >= 128) return ~U128{0};
  return (U128{1} << hostBits) - 1;
}

std::string quoted(std::string_view text) { return "'" + sanitize(text, 64) + "'"; }

Result<IpAddress, std::string> parseAddress(std::string_view text) {
  auto a = IpAddress::parse(text);
  if (!a) return err("bad address " + quoted(text));
  return *a;
}

/// Decimal 0..999 with no sign, no spaces, no leading '+'; range-checked later.
Result<int, std::string> parsePrefix(std::string_view text) {
  unsigned value = 0;  // unsigned: from_chars would accept "-1" into an int
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || text.size() > 3 || ec != std::errc{} || ptr != end)
    return err("bad prefix length " + quoted(text));
  return static_cast<int>(value);
}

Result<IpRange, std::string> parseCidr(std::string_view addrText, std::string_view prefixText) {
  auto addr = parseAddress(addrText);
  if (!addr) return err(addr.error());
  auto prefix = parsePrefix(prefixText);
  if (!prefix) return err(prefix.error());
  if (*prefix > familyBits(addr->family())) return err("bad prefix length " + std::to_string(*prefix));
  if ((valueOf(*addr) & hostMask(addr->family(), *prefix)) != 0)
    return err("host bits set in " + quoted(std::string(addrText) + "/" + std::string(prefixText)) +
               " (did you mean " + IpRange::cidr(*addr, *prefix).toString() + "?)");
  return IpRange::cidr(*addr, *prefix);
}

Result<IpRange, std::string> parseDash(std::string_view firstText, std::string_view lastText) {
  auto first = parseAddress(firstText);
  if (!first) return err(first.error());
  auto last = parseAddress(lastText);
  if (!last) return err(last.error());
  if (first->family() != last->family()) return err(std::string("range mixes IPv4 and IPv6"));
  if (valueOf(*last) < valueOf(*first)) return err(std::string("range end before start"));
  return IpRange::between(*first, *last);
}

/// Prefix length if [first, last] is exactly one CIDR block, else -1.
int exactPrefix(Family f, U128 first, U128 last) {
  const U128 span = last - first;  // a block of 2^k addresses has span 2^k - 1
  if ((span & (span + 1)) != 0) return -1;
  if ((first & span) != 0) return -1;
  const int hostBits =
      std::popcount(static_cast<uint64_t>(span)) + std::popcount(static_cast<uint64_t>(span >> 64));
  return familyBits(f) - hostBits;
}

}  // namespace

Result<IpRange, std::string> IpRange::parse(std::string_view text) {
  if (text.empty()) return err(std::string("empty address range"));
  if (const auto slash = text.find('/'); slash != std::string_view::npos)
    return parseCidr(text.substr(0, slash), text.substr(slash + 1));
  if (const auto dash = text.find('-'); dash != std::string_view::npos)
    return parseDash(text.substr(0, dash), text.substr(dash + 1));
  auto addr = parseAddress(text);
  if (!addr) return err(addr.error());
  return single(*addr);
}

IpRange IpRange::cidr(const IpAddress& base, int prefix) {
  const Family f = base.family();
  if (prefix < 0) prefix = 0;
  if (prefix > familyBits(f)) prefix = familyBits(f);
  const U128 mask = hostMask(f, prefix);
  const U128 first = valueOf(base) & ~mask;
  return IpRange(f, first, first | mask);
}

IpRange IpRange::between(const IpAddress& first, const IpAddress& last) {
  return IpRange(first.family(), valueOf(first), valueOf(last));
}

bool IpRange::contains(const IpAddress& a) const {
  if (a.family() != family_) return false;
  const U128 v = valueOf(a);
  return first_ <= v && v <= last_;
}

IpAddress IpRange::first() const { return addressOf(family_, first_); }
IpAddress IpRange::last() const { return addressOf(family_, last_); }

std::string IpRange::toString() const {
  const int prefix = exactPrefix(family_, first_, last_);
  if (prefix >= 0) return first().toString() + "/" + std::to_string(prefix);
  return first().toString() + "-" + last().toString();
}

}  // namespace tw::policy
