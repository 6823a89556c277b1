#pragma once
// The 14-bit message type interleaves the 12-bit method with the 2-bit class
// (RFC 8489 §5, Figure 3):
//
//    0                 1
//    2  3  4 5 6 7 8 9 0 1 2 3 4 5
//   +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
//   |M |M |M|M|M|C|M|M|M|C|M|M|M|M|
//   |11|10|9|8|7|1|6|5|4|0|3|2|1|0|
//   +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
#include <cstdint>

#include "relay/stun/constants.h"

namespace tw::stun {

constexpr uint16_t messageType(uint16_t method, MessageClass cls) {
  const auto c = static_cast<uint16_t>(cls);
  return static_cast<uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                               ((c & 0x1) << 4) | ((c & 0x2) << 7));
}

constexpr uint16_t messageType(Method method, MessageClass cls) {
  return messageType(static_cast<uint16_t>(method), cls);
}

constexpr uint16_t methodOfType(uint16_t type) {
  return static_cast<uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
}

constexpr MessageClass classOfType(uint16_t type) {
  return static_cast<MessageClass>(((type >> 4) & 0x1) | ((type >> 7) & 0x2));
}

}  // namespace tw::stun
