#include "relay/base/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace tw {

IpAddress IpAddress::v4(uint32_t hostOrder) {
  IpAddress a;
  a.family_ = Family::V4;
  a.bytes_[0] = static_cast<uint8_t>(hostOrder >> 24);
  a.bytes_[1] = static_cast<uint8_t>(hostOrder >> 16);
  a.bytes_[2] = static_cast<uint8_t>(hostOrder >> 8);
  a.bytes_[3] = static_cast<uint8_t>(hostOrder);
  return a;
}

IpAddress IpAddress::v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return v4((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d);
}

IpAddress IpAddress::v6(const std::array<uint8_t, 16>& bytes) {
  IpAddress a;
  a.family_ = Family::V6;
  a.bytes_ = bytes;
  return a;
}

IpAddress IpAddress::v6(U128 value) {
  std::array<uint8_t, 16> b{};
  for (int i = 15; i >= 0; --i) {
    b[i] = static_cast<uint8_t>(value);
    value >>= 8;
  }
  return v6(b);
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN + 1];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  unsigned char out[16];
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, out) != 1) return std::nullopt;
    return v4(out[0], out[1], out[2], out[3]);
  }
  if (inet_pton(AF_INET6, buf, out) != 1) return std::nullopt;
  std::array<uint8_t, 16> b;
  std::memcpy(b.data(), out, 16);
  return v6(b);
}

uint32_t IpAddress::v4Value() const {
  return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) | bytes_[3];
}

U128 IpAddress::v6Value() const {
  U128 v = 0;
  for (uint8_t b : bytes_) v = (v << 8) | b;
  return v;
}

bool IpAddress::isUnspecified() const { return isV4() ? v4Value() == 0 : v6Value() == 0; }

std::string IpAddress::toString() const {
  char buf[INET6_ADDRSTRLEN];
  const int af = isV4() ? AF_INET : AF_INET6;
  if (inet_ntop(af, bytes_.data(), buf, sizeof buf) == nullptr) return "?";
  return buf;
}

std::string SocketAddress::toString() const {
  if (ip.isV4()) return ip.toString() + ":" + std::to_string(port);
  return "[" + ip.toString() + "]:" + std::to_string(port);
}

std::optional<uint16_t> parsePort(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

std::optional<SocketAddress> SocketAddress::parse(std::string_view text) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;
  }
  auto ip = IpAddress::parse(host);
  auto p = parsePort(port);
  if (!ip || !p) return std::nullopt;
  return SocketAddress{*ip, *p};
}

bool covers(const SocketAddress& bound, const SocketAddress& local) {
  if (bound == local) return true;
  return bound.port == local.port && bound.ip.family() == local.ip.family() && bound.ip.isUnspecified();
}

std::optional<SocketAddress> SocketAddress::fromSockaddr(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, sa, sizeof in);
    return SocketAddress{IpAddress::v4(ntohl(in.sin_addr.s_addr)), ntohs(in.sin_port)};
  }
  if (sa->sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, sa, sizeof in6);
    std::array<uint8_t, 16> b;
    std::memcpy(b.data(), &in6.sin6_addr, 16);
    return SocketAddress{IpAddress::v6(b), ntohs(in6.sin6_port)};
  }
  return std::nullopt;
}

unsigned SocketAddress::toSockaddr(sockaddr_storage& out) const {
  std::memset(&out, 0, sizeof out);
  if (ip.isV4()) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    in.sin_addr.s_addr = htonl(ip.v4Value());
    std::memcpy(&out, &in, sizeof in);
    return sizeof in;
  }
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(port);
  std::memcpy(&in6.sin6_addr, ip.bytes().data(), 16);
  std::memcpy(&out, &in6, sizeof in6);
  return sizeof in6;
}

std::string_view toString(Transport t) {
  switch (t) {
    case Transport::Udp:
      return "udp";
    case Transport::Tcp:
      return "tcp";
    case Transport::Tls:
      return "tls";
    case Transport::Dtls:
      return "dtls";
  }
  return "?";
}

std::optional<Transport> parseTransport(std::string_view text) {
  if (text == "udp") return Transport::Udp;
  if (text == "tcp") return Transport::Tcp;
  if (text == "tls") return Transport::Tls;
  if (text == "dtls") return Transport::Dtls;
  return std::nullopt;
}

namespace {
inline size_t mix(size_t h, uint64_t v) {
  // splitmix64-style finaliser; cheap and well distributed.
  v += 0x9e3779b97f4a7c15ULL + h;
  v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ULL;
  v = (v ^ (v >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<size_t>(v ^ (v >> 31));
}
}  // namespace

size_t hashValue(const IpAddress& a) {
  uint64_t hi = 0, lo = 0;
  std::memcpy(&hi, a.bytes().data(), 8);
  std::memcpy(&lo, a.bytes().data() + 8, 8);
  return mix(mix(static_cast<size_t>(a.family()), hi), lo);
}

size_t hashValue(const SocketAddress& a) { return mix(hashValue(a.ip), a.port); }

size_t hashValue(const FiveTuple& t) {
  return mix(mix(hashValue(t.client), hashValue(t.server)), static_cast<uint64_t>(t.transport));
}

}  // namespace tw
