#pragma once
// Address value types shared by every layer. IPv4 and IPv6 are kept apart by
// family; ranges compare them as unsigned integers (never byte by byte).
#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;
struct sockaddr_storage;

namespace tw {

enum class Family : uint8_t { V4 = 4, V6 = 6 };

__extension__ typedef unsigned __int128 U128;

/// An IPv4 or IPv6 address. IPv4 is stored in bytes_[0..3].
class IpAddress {
 public:
  IpAddress() = default;
  static IpAddress v4(uint32_t hostOrder);
  static IpAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
  static IpAddress v6(const std::array<uint8_t, 16>& bytes);
  static IpAddress v6(U128 value);
  /// Parses dotted-quad or RFC 4291 text (no brackets, no zone id).
  static std::optional<IpAddress> parse(std::string_view text);

  Family family() const { return family_; }
  bool isV4() const { return family_ == Family::V4; }
  bool isV6() const { return family_ == Family::V6; }
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  /// Host-order value of an IPv4 address.
  uint32_t v4Value() const;
  /// Numeric value of an IPv6 address (most significant byte first).
  U128 v6Value() const;
  bool isUnspecified() const;
  std::string toString() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

 private:
  Family family_ = Family::V4;
  std::array<uint8_t, 16> bytes_{};
};

/// An IP address and a port: a STUN "transport address".
struct SocketAddress {
  IpAddress ip;
  uint16_t port = 0;

  /// "1.2.3.4:5" or "[::1]:5".
  std::string toString() const;
  /// Parses "1.2.3.4:5", "[::1]:5".
  static std::optional<SocketAddress> parse(std::string_view text);
  static std::optional<SocketAddress> fromSockaddr(const sockaddr* sa);
  /// Fills storage and returns the length to pass to sendto/bind.
  unsigned toSockaddr(sockaddr_storage& out) const;

  friend bool operator==(const SocketAddress&, const SocketAddress&) = default;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  friend auto operator<=>(const SocketAddress&, const SocketAddress&) = default;
};

/// A decimal port "0".."65535": digits only, no sign (leading zeros pass).
std::optional<uint16_t> parsePort(std::string_view text);

enum class Transport : uint8_t { Udp, Tcp, Tls, Dtls };
std::string_view toString(Transport t);
std::optional<Transport> parseTransport(std::string_view text);

/// Client address, server (listener) address and transport: identifies an
/// allocation (RFC 8656 §2).
struct FiveTuple {
  SocketAddress client;
  SocketAddress server;
  Transport transport = Transport::Udp;
  friend bool operator==(const FiveTuple&, const FiveTuple&) = default;
};

/// True when a socket bound to `bound` receives datagrams sent to `local`:
/// the same address, or `bound` is the wildcard (0.0.0.0 / ::) of `local`'s
/// family on the same port. A wildcard listener's 5-tuples carry the real
/// local address the client sent to (IP_PKTINFO), not the wildcard.
bool covers(const SocketAddress& bound, const SocketAddress& local);

size_t hashValue(const IpAddress& a);
size_t hashValue(const SocketAddress& a);
size_t hashValue(const FiveTuple& t);

}  // namespace tw

template <>
struct std::hash<tw::IpAddress> {
  size_t operator()(const tw::IpAddress& a) const { return tw::hashValue(a); }
};
template <>
struct std::hash<tw::SocketAddress> {
  size_t operator()(const tw::SocketAddress& a) const { return tw::hashValue(a); }
};
template <>
struct std::hash<tw::FiveTuple> {
  size_t operator()(const tw::FiveTuple& t) const { return tw::hashValue(t); }
};
