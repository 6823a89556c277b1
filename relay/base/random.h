#pragma once
// Randomness is injected. Production uses the OpenSSL CSPRNG for nonces keys,
// relay ports, reservation tokens and connection ids (coturn CVE-2025-69217
// came from random()); tests may use a seeded generator.
#include <cstdint>
#include <span>

namespace tw {

class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(std::span<uint8_t> out) = 0;
  uint32_t u32();
  uint64_t u64();
  /// Uniform in [0, bound) without modulo bias; bound > 0.
  uint32_t below(uint32_t bound);
};

class CsprngRandom final : public Random {
 public:
  void fill(std::span<uint8_t> out) override;
};

/// Deterministic xorshift generator for tests (never for production).
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : s_(seed ? seed : 0x1234567) {}
  void fill(std::span<uint8_t> out) override;

 private:
  uint64_t s_;
};

}  // namespace tw
