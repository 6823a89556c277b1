#pragma once
// A contiguous, inclusive range of addresses of one family. Access-control
// lists (peer rules, relay-ip restrictions) are built from these, so every
// comparison is done on the address as an unsigned integer (uint32 for IPv4,
// tw::U128 for IPv6) -- never byte by byte, never on text.
#include <string>
#include <string_view>

#include "relay/base/address.h"
#include "relay/base/result.h"

namespace tw::policy {

class IpRange {
 public:
  /// Accepts the three notations operators use in configs:
  ///   "10.1.0.1" / "::1"           a single address
  ///   "10.0.0.0/8" / "fc00::/7"    CIDR; host bits must be zero, because
  ///                                "10.1.2.3/8" is almost always a typo and
  ///                                silently widening/narrowing it is unsafe
  ///   "10.1.0.1-10.1.0.9"          turnserver-style inclusive range; both
  ///                                ends of the same family, first <= last
  /// Surrounding whitespace is not accepted. The error says what is wrong,
  /// e.g. "bad prefix length 33", "range end before start".
  static Result<IpRange, std::string> parse(std::string_view text);

  /// The CIDR block containing `base` with `prefix` leading bits (host bits of
  /// `base` are masked off). `prefix` is clamped to [0, 32] / [0, 128].
  static IpRange cidr(const IpAddress& base, int prefix);
  /// The inclusive range [first, last]. Precondition: same family and
  /// first <= last (parse() checks this for untrusted text).
  static IpRange between(const IpAddress& first, const IpAddress& last);
  /// Exactly one address.
  static IpRange single(const IpAddress& a) { return between(a, a); }

  /// False for an address of the other family: an IPv4-mapped IPv6 address is
  /// *not* inside an IPv4 range here (embedded IPv4s are handled explicitly by
  /// the peer rules, see embedded_ipv4.h).
  bool contains(const IpAddress& a) const;

  Family family() const { return family_; }
  IpAddress first() const;
  IpAddress last() const;
  /// Canonical text that parse() accepts back: "net/len" when the range is
  /// exactly one CIDR block (a single address prints as "/32" or "/128"),
  /// otherwise "first-last".
  std::string toString() const;

  friend bool operator==(const IpRange&, const IpRange&) = default;

 private:
  IpRange(Family f, U128 first, U128 last) : family_(f), first_(first), last_(last) {}

  Family family_ = Family::V4;
  U128 first_ = 0;  ///< IPv4 values live in the low 32 bits.
  U128 last_ = 0;
};

}  // namespace tw::policy
