#pragma once
// Frame boundaries on stream transports (TCP/TLS, RFC 8489 §6.2.2 and
// RFC 8656 §12.5): the first 4 bytes of a frame say how long it is.
//
//   STUN:        |00| type (14) | length (16) |  -> 20 + length
//   ChannelData: |01| channel   | length (16) |  -> 4 + length rounded up to 4
//
// Anything else means the stream is desynchronised and must be closed.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace tw::stun {

/// Total frame length from the first 4 bytes (more may be passed; they are
/// ignored). nullopt if fewer than 4 bytes are given, if the first two bits
/// are 0b10/0b11, or if a STUN length is not a multiple of 4 (no valid STUN
/// message has one, and trusting it would desynchronise the stream).
std::optional<size_t> streamFrameLength(std::span<const uint8_t> first4);

}  // namespace tw::stun
