#pragma once
// One attribute TLV (RFC 8489 §14, Figure 4). Values are padded to a
// multiple of 4 bytes; the Length field counts the value without padding.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Type                  |            Length             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                         Value (variable)                ....
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#include <cstddef>
#include <cstdint>
#include <span>

#include "relay/base/result.h"
#include "relay/stun/decode_error.h"

namespace tw::stun {

/// Where one attribute sits in its message. Plain numbers rather than
/// pointers so a Message stays a small copyable view.
struct RawAttribute {
  uint16_t type;
  uint16_t length;  // value length, without padding
  uint16_t offset;  // offset of the VALUE from the start of the message
};

/// Size of the attribute header (Type + Length).
constexpr size_t kAttributeHeaderSize = 4;

/// Reads the attribute whose header starts at `pos` in `message`. Fails with
/// AttributeOverrun if the header, the value or its padding run past the end
/// (so a 0xFFFF length or a truncated header can never be over-read).
/// `message` must be at most kMaxMessageSize bytes.
Result<RawAttribute, DecodeError> readAttribute(std::span<const uint8_t> message, size_t pos);

/// Offset of the attribute header following `a` (value end plus padding).
size_t nextAttributePos(const RawAttribute& a);

}  // namespace tw::stun
