#include "relay/stun/message.h"

#include "relay/stun/address_attr.h"
#include "relay/stun/byte_io.h"
#include "relay/stun/message_type.h"

namespace tw::stun {

namespace {

constexpr size_t kErrorCodeHeader = 4;
constexpr size_t kUserhashSize = 32;
constexpr size_t kPasswordAlgorithmHeader = 4;

std::string_view asText(std::span<const uint8_t> v) {
  return {reinterpret_cast<const char*>(v.data()), v.size()};
}

}  // namespace

MessageClass Message::messageClass() const { return classOfType(type_); }

uint16_t Message::rawMethod() const { return methodOfType(type_); }

const RawAttribute* Message::find(uint16_t type) const {
  for (const RawAttribute& a : attributes()) {
    if (a.type == type) return &a;
  }
  return nullptr;
}

std::optional<std::span<const uint8_t>> Message::valueOf(uint16_t type) const {
  const RawAttribute* a = find(type);
  if (a == nullptr) return std::nullopt;
  return value(*a);
}

std::optional<std::string_view> Message::text(uint16_t type, size_t maxBytes) const {
  auto v = valueOf(type);
  if (!v || v->size() > maxBytes) return std::nullopt;
  return asText(*v);
}

std::optional<std::span<const uint8_t>> Message::fixed(uint16_t type, size_t size) const {
  auto v = valueOf(type);
  if (!v || v->size() != size) return std::nullopt;
  return v;
}

std::optional<std::string_view> Message::username() const { return text(attr::Username, kMaxUsernameBytes); }
std::optional<std::string_view> Message::realm() const { return text(attr::Realm, kMaxTextBytes); }
std::optional<std::string_view> Message::nonce() const { return text(attr::Nonce, kMaxTextBytes); }
std::optional<std::string_view> Message::software() const { return text(attr::Software, kMaxTextBytes); }

std::optional<uint32_t> Message::lifetime() const {
  auto v = fixed(attr::Lifetime, 4);
  if (!v) return std::nullopt;
  return detail::readU32(v->data());
}

std::optional<uint8_t> Message::requestedTransport() const {
  auto v = fixed(attr::RequestedTransport, 4);
  if (!v) return std::nullopt;
  return (*v)[0];
}

std::optional<uint16_t> Message::channelNumber() const {
  auto v = fixed(attr::ChannelNumber, 4);
  if (!v) return std::nullopt;
  return detail::readU16(v->data());
}

std::optional<std::span<const uint8_t>> Message::data() const { return valueOf(attr::Data); }

std::optional<EvenPortValue> Message::evenPort() const {
  auto v = fixed(attr::EvenPort, 1);
  if (!v) return std::nullopt;
  return EvenPortValue{((*v)[0] & 0x80) != 0};
}

std::optional<uint64_t> Message::reservationToken() const {
  auto v = fixed(attr::ReservationToken, 8);
  if (!v) return std::nullopt;
  return detail::readU64(v->data());
}

std::optional<uint8_t> Message::requestedAddressFamily() const {
  auto v = fixed(attr::RequestedAddressFamily, 4);
  if (!v) return std::nullopt;
  return (*v)[0];
}

std::optional<uint8_t> Message::additionalAddressFamily() const {
  auto v = fixed(attr::AdditionalAddressFamily, 4);
  if (!v) return std::nullopt;
  return (*v)[0];
}

std::optional<uint32_t> Message::connectionId() const {
  auto v = fixed(attr::ConnectionId, 4);
  if (!v) return std::nullopt;
  return detail::readU32(v->data());
}

std::optional<ErrorCodeValue> Message::errorCode() const {
  auto v = valueOf(attr::ErrorCode);
  if (!v || v->size() < kErrorCodeHeader || v->size() - kErrorCodeHeader > kMaxTextBytes) {
    return std::nullopt;
  }
  const int cls = (*v)[2] & 0x07;
  const int number = (*v)[3];
  if (cls < 3 || cls > 6 || number > 99) return std::nullopt;
  return ErrorCodeValue{cls * 100 + number, asText(v->subspan(kErrorCodeHeader))};
}

std::optional<std::span<const uint8_t>> Message::userhash() const {
  return fixed(attr::Userhash, kUserhashSize);
}

std::optional<PasswordAlgorithmValue> Message::passwordAlgorithm() const {
  auto v = valueOf(attr::PasswordAlgorithm);
  if (!v || v->size() < kPasswordAlgorithmHeader) return std::nullopt;
  const uint16_t paramLength = detail::readU16(v->data() + 2);
  if (detail::padded4(paramLength) != v->size() - kPasswordAlgorithmHeader &&
      paramLength != v->size() - kPasswordAlgorithmHeader) {
    return std::nullopt;
  }
  return PasswordAlgorithmValue{detail::readU16(v->data()),
                                v->subspan(kPasswordAlgorithmHeader, paramLength)};
}

std::optional<SocketAddress> Message::xorAddress(const RawAttribute& a) const {
  return decodeXorAddress(value(a), txid_);
}

std::optional<SocketAddress> Message::address(const RawAttribute& a) const { return decodeAddress(value(a)); }

std::optional<SocketAddress> Message::xorAddressOf(uint16_t type) const {
  const RawAttribute* a = find(type);
  if (a == nullptr) return std::nullopt;
  return xorAddress(*a);
}

std::optional<SocketAddress> Message::addressOf(uint16_t type) const {
  const RawAttribute* a = find(type);
  if (a == nullptr) return std::nullopt;
  return address(*a);
}

std::optional<SocketAddress> Message::xorMappedAddress() const {
  return xorAddressOf(attr::XorMappedAddress);
}
std::optional<SocketAddress> Message::xorRelayedAddress() const {
  return xorAddressOf(attr::XorRelayedAddress);
}
std::optional<SocketAddress> Message::mappedAddress() const { return addressOf(attr::MappedAddress); }
std::optional<SocketAddress> Message::alternateServer() const { return addressOf(attr::AlternateServer); }

size_t Message::xorPeerAddresses(std::span<SocketAddress> out, bool& malformed) const {
  malformed = false;
  size_t total = 0;
  for (const RawAttribute& a : attributes()) {
    if (a.type != attr::XorPeerAddress) continue;
    auto addr = xorAddress(a);
    if (!addr) malformed = true;
    if (total < out.size()) out[total] = addr.value_or(SocketAddress{});
    ++total;
  }
  return total;
}

}  // namespace tw::stun
