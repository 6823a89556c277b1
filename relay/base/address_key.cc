#include "relay/base/address_key.h"

#include <array>

namespace tw {

namespace {
bool isV4Mapped(const IpAddress& ip) {
  const auto& b = ip.bytes();
  for (int i = 0; i < 10; ++i)
    if (b[i] != 0) return false;
  return b[10] == 0xff && b[11] == 0xff;
}
}  // namespace

IpAddress clientKey(const IpAddress& ip, uint8_t v6Prefix) {
  if (!ip.isV6() || v6Prefix >= 128 || isV4Mapped(ip)) return ip;
  std::array<uint8_t, 16> b = ip.bytes();
  const size_t whole = v6Prefix / 8;
  if (v6Prefix % 8) b[whole] &= static_cast<uint8_t>(0xff00u >> (v6Prefix % 8));
  for (size_t i = whole + (v6Prefix % 8 ? 1 : 0); i < b.size(); ++i) b[i] = 0;
  return IpAddress::v6(b);
}

SocketAddress clientKey(const SocketAddress& source, uint8_t v6Prefix) {
  return SocketAddress{clientKey(source.ip, v6Prefix), source.port};
}

uint64_t keyedHash(const SipKey& key, const IpAddress& ip) {
  std::array<uint8_t, 17> in{};
  in[0] = static_cast<uint8_t>(ip.family());
  const auto& b = ip.bytes();
  std::copy(b.begin(), b.end(), in.begin() + 1);
  return sipHash24(key, in);
}

uint64_t keyedHash(const SipKey& key, const SocketAddress& source) {
  std::array<uint8_t, 19> in{};
  in[0] = static_cast<uint8_t>(source.ip.family());
  const auto& b = source.ip.bytes();
  std::copy(b.begin(), b.end(), in.begin() + 1);
  in[17] = static_cast<uint8_t>(source.port >> 8);
  in[18] = static_cast<uint8_t>(source.port);
  return sipHash24(key, in);
}

}  // namespace tw
