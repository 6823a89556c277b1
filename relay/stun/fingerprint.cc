#include "relay/stun/fingerprint.h"

#include "relay/base/crypto.h"

namespace tw::stun {

uint32_t fingerprintOf(std::span<const uint8_t> prefix) { return crc32(prefix) ^ kFingerprintXor; }

}  // namespace tw::stun
