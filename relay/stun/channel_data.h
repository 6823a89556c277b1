#pragma once
// ChannelData (RFC 8656 §12.4): the 4-byte-overhead framing for data on a
// bound channel, told apart from STUN by its first two bits being 0b01
// (channel numbers 0x4000-0x7FFF).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Channel Number        |            Length             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                                                               |
//   /                       Application Data                        /
//   /                                                               /
//   |                                                               |
//   |                               +-------------------------------+
//   |                               |
//   +-------------------------------+
//
// Length counts the application data only. Over TCP/TLS the frame is padded
// to a multiple of 4 (§12.5); over UDP padding is optional.
#include <cstdint>
#include <span>
#include <vector>

#include "relay/base/result.h"
#include "relay/stun/decode_error.h"

namespace tw::stun {

constexpr size_t kChannelDataHeaderSize = 4;

/// First two bits 0b01. Empty input is not ChannelData.
bool isChannelData(std::span<const uint8_t> bytes);

struct ChannelData {
  uint16_t channel;
  std::span<const uint8_t> payload;  // view into the input bytes
};

/// UDP rules: Length must be <= the bytes after the header, and at most the
/// padding to 4 may follow the data. Errors: TooShort (< 4 bytes), NotStun
/// (first two bits not 0b01), BadLength (Length longer than what arrived,
/// or more than the padding after it). The channel range is the TURN
/// layer's business.
Result<ChannelData, DecodeError> decodeChannelData(std::span<const uint8_t> bytes);

/// Clears `out` and writes a ChannelData frame; padTo4 (required on
/// streams) appends zero bytes. `payload` must be at most 65535 bytes; a
/// larger one is cut to 65535.
void encodeChannelData(std::vector<uint8_t>& out, uint16_t channel, std::span<const uint8_t> payload,
                       bool padTo4);

}  // namespace tw::stun
