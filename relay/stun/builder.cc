#include "relay/stun/builder.h"

#include <algorithm>
#include <array>

#include "relay/base/crypto.h"
#include "relay/base/mac_engine.h"
#include "relay/stun/address_attr.h"
#include "relay/stun/attribute.h"
#include "relay/stun/byte_io.h"
#include "relay/stun/fingerprint.h"
#include "relay/stun/message_type.h"

namespace tw::stun {

namespace {
constexpr size_t kMiSize = 20;
constexpr size_t kMiSha256Max = 32;
constexpr size_t kMiSha256Min = 16;
}  // namespace

MessageBuilder::MessageBuilder(std::vector<uint8_t>& out, Method method, MessageClass cls,
                               const TransactionId& txid)
    : MessageBuilder(out, static_cast<uint16_t>(method), cls, txid) {}

MessageBuilder::MessageBuilder(std::vector<uint8_t>& out, uint16_t rawMethod, MessageClass cls,
                               const TransactionId& txid)
    : out_(out), txid_(txid) {
  out_.clear();
  detail::appendU16(out_, messageType(rawMethod, cls));
  detail::appendU16(out_, 0);
  detail::appendU32(out_, kMagicCookie);
  out_.insert(out_.end(), txid_.begin(), txid_.end());
}

bool MessageBuilder::allowedNow(uint16_t type) const {
  switch (stage_) {
    case Stage::Body:
      return true;
    case Stage::AfterMi:
      return type == attr::MessageIntegritySha256 || type == attr::Fingerprint;
    case Stage::AfterMiSha256:
      return type == attr::Fingerprint;
    case Stage::Sealed:
      return false;
  }
  return false;
}

void MessageBuilder::advanceStage(uint16_t type) {
  if (type == attr::MessageIntegrity) stage_ = Stage::AfterMi;
  if (type == attr::MessageIntegritySha256) stage_ = Stage::AfterMiSha256;
  if (type == attr::Fingerprint) stage_ = Stage::Sealed;
}

uint8_t* MessageBuilder::beginAttribute(uint16_t type, size_t length) {
  const size_t grown = out_.size() + kAttributeHeaderSize + detail::padded4(length);
  if (!ok_ || !allowedNow(type) || length > 0xFFFF || grown > kMaxMessageSize) {
    ok_ = false;
    return nullptr;
  }
  advanceStage(type);
  detail::appendU16(out_, type);
  detail::appendU16(out_, static_cast<uint16_t>(length));
  const size_t valueAt = out_.size();
  out_.resize(grown, 0);  // value room plus zero padding
  detail::storeU16(out_.data() + 2, static_cast<uint16_t>(grown - kHeaderSize));
  return out_.data() + valueAt;
}

MessageBuilder& MessageBuilder::addXorAddress(uint16_t type, const SocketAddress& a) {
  const size_t n = addressValueSize(a);
  if (uint8_t* v = beginAttribute(type, n)) encodeXorAddress({v, n}, a, txid_);
  return *this;
}

MessageBuilder& MessageBuilder::addAddress(uint16_t type, const SocketAddress& a) {
  const size_t n = addressValueSize(a);
  if (uint8_t* v = beginAttribute(type, n)) encodeAddress({v, n}, a);
  return *this;
}

MessageBuilder& MessageBuilder::addU32(uint16_t type, uint32_t value) {
  if (uint8_t* v = beginAttribute(type, 4)) detail::storeU32(v, value);
  return *this;
}

MessageBuilder& MessageBuilder::addU64(uint16_t type, uint64_t value) {
  if (uint8_t* v = beginAttribute(type, 8)) detail::storeU64(v, value);
  return *this;
}

MessageBuilder& MessageBuilder::addString(uint16_t type, std::string_view s) {
  return addBytes(type, asBytes(s));
}

MessageBuilder& MessageBuilder::addBytes(uint16_t type, std::span<const uint8_t> value) {
  if (uint8_t* v = beginAttribute(type, value.size())) std::copy(value.begin(), value.end(), v);
  return *this;
}

MessageBuilder& MessageBuilder::addEmpty(uint16_t type) { return addBytes(type, {}); }

MessageBuilder& MessageBuilder::addErrorCode(int code, std::string_view reason) {
  return errorCode(code, reason.empty() ? reasonPhrase(code) : reason);
}

MessageBuilder& MessageBuilder::addBareErrorCode(int code) { return errorCode(code, {}); }

MessageBuilder& MessageBuilder::errorCode(int code, std::string_view reason) {
  if (code < 300 || code > 699) {
    ok_ = false;
    return *this;
  }
  if (uint8_t* v = beginAttribute(attr::ErrorCode, 4 + reason.size())) {
    v[2] = static_cast<uint8_t>(code / 100);
    v[3] = static_cast<uint8_t>(code % 100);
    std::copy(reason.begin(), reason.end(), v + 4);
  }
  return *this;
}

MessageBuilder& MessageBuilder::addUnknownAttributes(std::span<const uint16_t> types) {
  if (uint8_t* v = beginAttribute(attr::UnknownAttributes, 2 * types.size())) {
    for (size_t i = 0; i < types.size(); ++i) detail::storeU16(v + 2 * i, types[i]);
  }
  return *this;
}

MessageBuilder& MessageBuilder::addRequestedTransport(uint8_t protocol) {
  const std::array<uint8_t, 4> v{protocol, 0, 0, 0};
  return addBytes(attr::RequestedTransport, v);
}

MessageBuilder& MessageBuilder::addAddressFamily(uint16_t type, uint8_t family) {
  const std::array<uint8_t, 4> v{family, 0, 0, 0};
  return addBytes(type, v);
}

MessageBuilder& MessageBuilder::addEvenPort(bool reserve) {
  const std::array<uint8_t, 1> v{static_cast<uint8_t>(reserve ? 0x80 : 0x00)};
  return addBytes(attr::EvenPort, v);
}

MessageBuilder& MessageBuilder::addChannelNumber(uint16_t channel) {
  const std::array<uint8_t, 4> v{static_cast<uint8_t>(channel >> 8), static_cast<uint8_t>(channel), 0, 0};
  return addBytes(attr::ChannelNumber, v);
}

MessageBuilder& MessageBuilder::addMessageIntegrity(std::span<const uint8_t> key) {
  MacEngine engine;
  return addMessageIntegrity(key, engine);
}

MessageBuilder& MessageBuilder::addMessageIntegrity(std::span<const uint8_t> key, MacEngine& engine) {
  if (key.empty()) ok_ = false;
  if (uint8_t* v = beginAttribute(attr::MessageIntegrity, kMiSize)) {
    const size_t covered = out_.size() - kAttributeHeaderSize - kMiSize;
    const auto mac = engine.hmacSha1(key, {Bytes(out_).first(covered)});
    if (!mac) ok_ = false;
    std::copy_n(mac.value_or(std::array<uint8_t, kMiSize>{}).begin(), kMiSize, v);
  }
  return *this;
}

MessageBuilder& MessageBuilder::addMessageIntegritySha256(std::span<const uint8_t> key) {
  return addMessageIntegritySha256(key, kMiSha256Max);
}

MessageBuilder& MessageBuilder::addMessageIntegritySha256(std::span<const uint8_t> key, size_t length) {
  if (key.empty() || length < kMiSha256Min || length > kMiSha256Max || length % 4 != 0) {
    ok_ = false;
    return *this;
  }
  if (uint8_t* v = beginAttribute(attr::MessageIntegritySha256, length)) {
    const size_t covered = out_.size() - kAttributeHeaderSize - length;
    const auto mac = hmacSha256(key, Bytes(out_).first(covered));
    std::copy_n(mac.begin(), length, v);
  }
  return *this;
}

MessageBuilder& MessageBuilder::addFingerprint() {
  if (uint8_t* v = beginAttribute(attr::Fingerprint, kFingerprintSize)) {
    const size_t covered = out_.size() - kAttributeHeaderSize - kFingerprintSize;
    detail::storeU32(v, fingerprintOf(Bytes(out_).first(covered)));
  }
  return *this;
}

}  // namespace tw::stun
