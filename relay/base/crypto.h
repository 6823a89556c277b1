#pragma once
// Thin wrappers over OpenSSL for the primitives STUN and the REST API use.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tw {

using Bytes = std::span<const uint8_t>;

inline Bytes asBytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

class MacEngine;

/// One-shot MACs and digests (a temporary MacEngine each); the request path
/// uses its worker's MacEngine instead (mac_engine.h).
std::array<uint8_t, 20> hmacSha1(Bytes key, Bytes data);
std::array<uint8_t, 32> hmacSha256(Bytes key, Bytes data);
std::array<uint8_t, 16> md5(Bytes data);
std::array<uint8_t, 32> sha256(Bytes data);
/// The STUN long-term key, MD5(username ":" realm ":" password) (RFC 8489
/// §9.2.2). One implementation for the codec and the keyring, which may not
/// depend on each other.
std::array<uint8_t, 16> longTermKeyMd5(std::string_view username, std::string_view realm,
                                       std::string_view password);
/// The same with the caller's engine (no copy of the three strings).
std::array<uint8_t, 16> longTermKeyMd5(MacEngine& engine, std::string_view username, std::string_view realm,
                                       std::string_view password);
/// CRC-32 (ISO 3309 / ITU-T V.42), as STUN FINGERPRINT uses.
uint32_t crc32(Bytes data);

/// Compares in time independent of where the inputs differ.
bool constantTimeEqual(Bytes a, Bytes b);

std::string base64Encode(Bytes data);
std::optional<std::vector<uint8_t>> base64Decode(std::string_view text);
std::string hexEncode(Bytes data);
std::optional<std::vector<uint8_t>> hexDecode(std::string_view text);

}  // namespace tw
