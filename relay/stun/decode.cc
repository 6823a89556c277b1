// decode(): header checks, then one pass over the attribute TLVs that
// enforces the RFC 8489 ordering rules around MESSAGE-INTEGRITY,
// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT.
#include <algorithm>
#include <optional>

#include "relay/stun/byte_io.h"
#include "relay/stun/fingerprint.h"
#include "relay/stun/message.h"

namespace tw::stun::detail {

namespace {

constexpr size_t kMiSize = 20;
constexpr size_t kMiSha256Min = 16;
constexpr size_t kMiSha256Max = 32;

std::optional<DecodeError> checkHeader(std::span<const uint8_t> d) {
  if (d.size() < kHeaderSize) return DecodeError::TooShort;
  if ((d[0] & 0xC0) != 0) return DecodeError::NotStun;
  if (readU32(d.data() + 4) != kMagicCookie) return DecodeError::BadMagicCookie;
  const size_t length = readU16(d.data() + 2);
  if (length % 4 != 0 || length + kHeaderSize != d.size() || d.size() > kMaxMessageSize) {
    return DecodeError::BadLength;
  }
  return std::nullopt;
}

bool validMiSha256Length(size_t n) { return n >= kMiSha256Min && n <= kMiSha256Max && n % 4 == 0; }

}  // namespace

/// Builds a Message; a friend of Message so the index stays private.
class MessageParser {
 public:
  explicit MessageParser(std::span<const uint8_t> d) {
    msg_.bytes_ = d;
    msg_.type_ = readU16(d.data());
    std::copy_n(d.begin() + 8, msg_.txid_.size(), msg_.txid_.begin());
  }

  std::optional<DecodeError> walk() {
    const auto bytes = msg_.bytes_;
    size_t pos = kHeaderSize;
    for (size_t n = 1; pos < bytes.size(); ++n) {
      if (n > kMaxAttributes) return DecodeError::TooManyAttributes;
      auto a = readAttribute(bytes, pos);
      if (!a.ok()) return a.error();
      if (auto e = accept(*a)) return e;
      pos = nextAttributePos(*a);
    }
    return std::nullopt;
  }

  Message& message() { return msg_; }

 private:
  enum class Stage { Body, AfterMi, AfterMiSha256 };

  std::optional<DecodeError> accept(const RawAttribute& a) {
    if (a.type == attr::Fingerprint) return acceptFingerprint(a);
    if (stage_ == Stage::AfterMiSha256) return std::nullopt;  // ignored (§14.6)
    if (a.type == attr::MessageIntegritySha256) {
      if (!validMiSha256Length(a.length)) return DecodeError::BadAttributeLength;
      stage_ = Stage::AfterMiSha256;
      keep(a);
      return std::nullopt;
    }
    if (stage_ == Stage::AfterMi) return std::nullopt;  // ignored (§14.5)
    if (a.type == attr::MessageIntegrity) {
      if (a.length != kMiSize) return DecodeError::BadAttributeLength;
      stage_ = Stage::AfterMi;
    }
    keep(a);
    if (a.type < 0x8000 && !isKnownAttribute(a.type)) noteUnknown(a.type);
    return std::nullopt;
  }

  std::optional<DecodeError> acceptFingerprint(const RawAttribute& a) {
    const auto bytes = msg_.bytes_;
    if (nextAttributePos(a) != bytes.size()) return DecodeError::BadAttributeOrder;
    if (a.length != kFingerprintSize) return DecodeError::BadAttributeLength;
    const size_t header = a.offset - kAttributeHeaderSize;
    if (readU32(bytes.data() + a.offset) != fingerprintOf(bytes.first(header))) {
      return DecodeError::BadFingerprint;
    }
    keep(a);
    return std::nullopt;
  }

  // walk() caps the attribute count at kMaxAttributes, so both fit.
  void keep(const RawAttribute& a) { msg_.attrs_[msg_.count_++] = a; }

  void noteUnknown(uint16_t type) {
    auto known = msg_.unknownComprehensionRequired();
    if (std::find(known.begin(), known.end(), type) != known.end()) return;
    msg_.unknown_[msg_.unknownCount_++] = type;
  }

  Message msg_;
  Stage stage_ = Stage::Body;
};

}  // namespace tw::stun::detail

namespace tw::stun {

Result<Message, DecodeError> decode(std::span<const uint8_t> datagram) {
  if (auto e = detail::checkHeader(datagram)) return err(*e);
  detail::MessageParser parser(datagram);
  if (auto e = parser.walk()) return err(*e);
  return parser.message();
}

}  // namespace tw::stun
