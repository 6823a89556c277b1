#pragma once
// FINGERPRINT (RFC 8489 §14.7): CRC-32 of the message up to (not including)
// the FINGERPRINT attribute, XOR 0x5354554e, so that a STUN message is told
// apart from other protocols that also happen to carry a CRC-32. The header
// length field already counts the 8-byte FINGERPRINT attribute.
//
//    0                   1                   2                   3
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |      Type 0x8028              |          Length 4             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                CRC-32(message) XOR 0x5354554e                 |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#include <cstdint>
#include <span>

namespace tw::stun {

constexpr uint32_t kFingerprintXor = 0x5354554e;
constexpr size_t kFingerprintSize = 4;

/// `prefix`: the message bytes before the FINGERPRINT attribute header.
uint32_t fingerprintOf(std::span<const uint8_t> prefix);

}  // namespace tw::stun
