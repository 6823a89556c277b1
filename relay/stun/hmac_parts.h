#pragma once
// HMAC over several byte ranges, internal to relay_stun. Verifying
// MESSAGE-INTEGRITY needs the header with an adjusted length field followed
// by the rest of the datagram; feeding the pieces separately avoids copying
// (and allocating for) every authenticated message.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>

#include "relay/base/crypto.h"

namespace tw::stun::detail {

/// nullopt only if OpenSSL fails, so a failure can never look like a MAC.
std::optional<std::array<uint8_t, 20>> hmacSha1Parts(Bytes key, std::initializer_list<Bytes> parts);
std::optional<std::array<uint8_t, 32>> hmacSha256Parts(Bytes key, std::initializer_list<Bytes> parts);

}  // namespace tw::stun::detail
