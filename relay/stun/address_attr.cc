#include "relay/stun/address_attr.h"

#include <algorithm>
#include <array>

#include "relay/stun/byte_io.h"

namespace tw::stun {

namespace {

constexpr size_t kV4ValueSize = 8;
constexpr size_t kV6ValueSize = 20;
constexpr size_t kAddressAt = 4;

/// XORs port and address in place; applying it twice restores the input.
void applyXor(std::span<uint8_t> value, const TransactionId& txid) {
  std::array<uint8_t, 16> mask{};
  detail::storeU32(mask.data(), kMagicCookie);
  std::copy(txid.begin(), txid.end(), mask.begin() + 4);
  value[2] ^= mask[0];
  value[3] ^= mask[1];
  for (size_t i = kAddressAt; i < value.size(); ++i) value[i] ^= mask[i - kAddressAt];
}

}  // namespace

size_t addressValueSize(const SocketAddress& a) { return a.ip.isV4() ? kV4ValueSize : kV6ValueSize; }

std::optional<SocketAddress> decodeAddress(std::span<const uint8_t> value) {
  if (value.size() < kAddressAt) return std::nullopt;
  const uint8_t family = value[1];
  const uint16_t port = detail::readU16(value.data() + 2);
  if (family == kFamilyIPv4 && value.size() == kV4ValueSize) {
    return SocketAddress{IpAddress::v4(detail::readU32(value.data() + kAddressAt)), port};
  }
  if (family == kFamilyIPv6 && value.size() == kV6ValueSize) {
    std::array<uint8_t, 16> bytes{};
    std::copy(value.begin() + kAddressAt, value.end(), bytes.begin());
    return SocketAddress{IpAddress::v6(bytes), port};
  }
  return std::nullopt;
}

std::optional<SocketAddress> decodeXorAddress(std::span<const uint8_t> value, const TransactionId& txid) {
  if (value.size() != kV4ValueSize && value.size() != kV6ValueSize) return std::nullopt;
  std::array<uint8_t, kV6ValueSize> plain{};
  std::copy(value.begin(), value.end(), plain.begin());
  const std::span<uint8_t> view(plain.data(), value.size());
  applyXor(view, txid);
  return decodeAddress(view);
}

void encodeAddress(std::span<uint8_t> value, const SocketAddress& a) {
  value[0] = 0;
  value[1] = a.ip.isV4() ? kFamilyIPv4 : kFamilyIPv6;
  detail::storeU16(value.data() + 2, a.port);
  const size_t n = a.ip.isV4() ? 4 : 16;
  std::copy_n(a.ip.bytes().begin(), n, value.begin() + kAddressAt);
}

void encodeXorAddress(std::span<uint8_t> value, const SocketAddress& a, const TransactionId& txid) {
  encodeAddress(value, a);
  applyXor(value.first(addressValueSize(a)), txid);
}

}  // namespace tw::stun
