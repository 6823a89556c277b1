#pragma once
// Big-endian reads and writes done one byte at a time. Attributes sit at any
// offset inside a caller's buffer (which may itself start at an odd address);
// casting to uint16_t* there faults on strict-alignment CPUs (CVE-2026-40613)
// and is undefined behaviour everywhere. Internal to relay_stun.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tw::stun::detail {

inline uint16_t readU16(const uint8_t* p) { return static_cast<uint16_t>((uint16_t{p[0]} << 8) | p[1]); }

inline uint32_t readU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

inline uint64_t readU64(const uint8_t* p) { return (uint64_t{readU32(p)} << 32) | readU32(p + 4); }

inline void storeU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

inline void storeU32(uint8_t* p, uint32_t v) {
  storeU16(p, static_cast<uint16_t>(v >> 16));
  storeU16(p + 2, static_cast<uint16_t>(v));
}

inline void storeU64(uint8_t* p, uint64_t v) {
  storeU32(p, static_cast<uint32_t>(v >> 32));
  storeU32(p + 4, static_cast<uint32_t>(v));
}

inline void appendU16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

inline void appendU32(std::vector<uint8_t>& out, uint32_t v) {
  appendU16(out, static_cast<uint16_t>(v >> 16));
  appendU16(out, static_cast<uint16_t>(v));
}

/// STUN and ChannelData values are padded to a multiple of 4 bytes.
constexpr size_t padded4(size_t n) { return (n + 3) & ~size_t{3}; }

}  // namespace tw::stun::detail
