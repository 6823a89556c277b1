#pragma once
// Why a datagram or frame was rejected. Each value maps to one drop counter
// and one log reason, so operators can tell scanners (NotStun,
// BadMagicCookie) from broken or hostile clients (overruns, bad CRC).
#include <string_view>

namespace tw::stun {

enum class DecodeError {
  TooShort,            // fewer than 20 bytes (4 for ChannelData)
  NotStun,             // first two bits not 00 (not 01 for ChannelData)
  BadMagicCookie,      // bytes 4..7 are not 0x2112A442
  BadLength,           // header length not a multiple of 4, != datagram size - 20, or too big
  AttributeOverrun,    // an attribute header or value runs past the end
  BadAttributeOrder,   // FINGERPRINT is not the last attribute
  BadFingerprint,      // FINGERPRINT CRC does not match
  TooManyAttributes,   // more than kMaxAttributes attributes
  BadAttributeLength,  // MI not 20 bytes, MI-SHA256 not 16..32/multiple of 4, FINGERPRINT not 4
};

/// Short snake_case reason ("bad_magic_cookie") for logs and metric labels.
std::string_view toString(DecodeError e);

}  // namespace tw::stun
