#pragma once
// Helpers for crafting STUN messages the builder deliberately refuses to
// produce (malformed lengths, attributes after MESSAGE-INTEGRITY, ...).
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

#include "relay/stun/constants.h"
#include "relay/stun/fingerprint.h"
#include "relay/stun/message_type.h"

namespace tw::stun::testing {

inline TransactionId makeTxid(uint8_t seed) {
  TransactionId t{};
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<uint8_t>(seed + 17 * i);
  return t;
}

template <size_t N>
std::vector<uint8_t> toVector(const std::array<uint8_t, N>& a) {
  return {a.begin(), a.end()};
}

inline void put16(std::vector<uint8_t>& m, size_t at, uint16_t v) {
  m[at] = static_cast<uint8_t>(v >> 8);
  m[at + 1] = static_cast<uint8_t>(v);
}

inline void push16(std::vector<uint8_t>& m, uint16_t v) {
  m.push_back(static_cast<uint8_t>(v >> 8));
  m.push_back(static_cast<uint8_t>(v));
}

/// Sets the header length to match the vector's size.
inline void fixLength(std::vector<uint8_t>& m) { put16(m, 2, static_cast<uint16_t>(m.size() - kHeaderSize)); }

/// A 20-byte header with length 0.
inline std::vector<uint8_t> rawHeader(Method method, MessageClass cls, const TransactionId& txid) {
  std::vector<uint8_t> m;
  push16(m, messageType(method, cls));
  push16(m, 0);
  for (int shift = 24; shift >= 0; shift -= 8) m.push_back(static_cast<uint8_t>(kMagicCookie >> shift));
  m.insert(m.end(), txid.begin(), txid.end());
  return m;
}

/// Appends a TLV with `value`, zero padding, and fixes the header length.
inline void appendRaw(std::vector<uint8_t>& m, uint16_t type, std::span<const uint8_t> value) {
  push16(m, type);
  push16(m, static_cast<uint16_t>(value.size()));
  m.insert(m.end(), value.begin(), value.end());
  while (m.size() % 4 != 0) m.push_back(0);
  fixLength(m);
}

inline void appendRaw(std::vector<uint8_t>& m, uint16_t type, std::string_view value) {
  appendRaw(m, type, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(value.data()), value.size()));
}

inline void appendRaw(std::vector<uint8_t>& m, uint16_t type, std::initializer_list<uint8_t> value) {
  appendRaw(m, type, std::span<const uint8_t>(value.begin(), value.size()));
}

/// Appends a correct FINGERPRINT attribute.
inline void appendFingerprint(std::vector<uint8_t>& m) {
  push16(m, attr::Fingerprint);
  push16(m, 4);
  m.resize(m.size() + 4, 0);
  fixLength(m);
  const size_t at = m.size() - 4;
  const uint32_t crc = fingerprintOf(std::span<const uint8_t>(m.data(), at - 4));
  for (int i = 0; i < 4; ++i) m[at + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
}

}  // namespace tw::stun::testing
