#include "relay/stun/attribute.h"

#include "relay/stun/byte_io.h"

namespace tw::stun {

Result<RawAttribute, DecodeError> readAttribute(std::span<const uint8_t> message, size_t pos) {
  if (pos > message.size() || message.size() - pos < kAttributeHeaderSize) {
    return err(DecodeError::AttributeOverrun);
  }
  const uint16_t type = detail::readU16(message.data() + pos);
  const uint16_t length = detail::readU16(message.data() + pos + 2);
  const size_t valueAt = pos + kAttributeHeaderSize;
  if (message.size() - valueAt < detail::padded4(length)) return err(DecodeError::AttributeOverrun);
  return RawAttribute{type, length, static_cast<uint16_t>(valueAt)};
}

size_t nextAttributePos(const RawAttribute& a) { return a.offset + detail::padded4(a.length); }

}  // namespace tw::stun
