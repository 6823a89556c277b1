#pragma once
// MESSAGE-INTEGRITY (RFC 8489 §14.5), MESSAGE-INTEGRITY-SHA256 (§14.6) and
// the long-term credential key (§9.2.2).
//
//    0                   1                   2                   3
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |   Type 0x0008 / 0x001C        |   Length 20 / 16..32          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          HMAC-SHA1 (20 bytes) / HMAC-SHA256 (16..32 bytes)    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The HMAC covers the message up to (not including) the integrity
// attribute, with the header length field rewritten to end just after the
// integrity attribute, as if it were the last attribute (a FINGERPRINT may
// follow it on the wire).
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "relay/base/crypto.h"
#include "relay/stun/message.h"

namespace tw::stun {

constexpr size_t kMessageIntegritySize = 20;
constexpr size_t kMessageIntegritySha256Size = 32;

/// HMAC-SHA1 check of the message's MESSAGE-INTEGRITY, compared in constant
/// time. false if absent or the key is empty (an empty key never
/// authenticates anything).
bool verifyMessageIntegrity(const Message& m, std::span<const uint8_t> key);
/// Same for MESSAGE-INTEGRITY-SHA256; a truncated value (16..32 bytes,
/// multiple of 4; decode() enforced it) is compared against the same prefix.
bool verifyMessageIntegritySha256(const Message& m, std::span<const uint8_t> key);
/// Both with the caller's engine (the server's request path: no algorithm
/// lookup per request); the two above use a temporary one.
bool verifyMessageIntegrity(const Message& m, std::span<const uint8_t> key, MacEngine& engine);
bool verifyMessageIntegritySha256(const Message& m, std::span<const uint8_t> key, MacEngine& engine);

/// Long-term key = MD5(username ":" realm ":" password) (RFC 8489 §9.2.2).
/// OpaqueString/SASLprep is not applied: inputs pass through as UTF-8.
std::array<uint8_t, 16> longTermKey(std::string_view username, std::string_view realm,
                                    std::string_view password);
/// The SHA-256 variant, for PASSWORD-ALGORITHM 0x0002 (RFC 8489 §18.5.1.2).
std::array<uint8_t, 32> longTermKeySha256(std::string_view username, std::string_view realm,
                                          std::string_view password);
/// USERHASH = SHA-256(username ":" realm) (RFC 8489 §14.4).
std::array<uint8_t, 32> userhashOf(std::string_view username, std::string_view realm);

}  // namespace tw::stun
