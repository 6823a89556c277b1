#pragma once
// Randomness is injected. Production uses the OpenSSL CSPRNG for nonces keys,
// relay ports, reservation tokens and connection ids (coturn CVE-2025-69217
// came from random()); tests may use a seeded generator.
#include <array>
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

/// Hands out `upstream`'s bytes from a 512-byte buffer refilled in one call.
/// Each RAND_bytes call costs about 1.4 us here (a lock and two getpid
/// calls for fork detection), and a relay port pick made one or more per
/// allocation. The bytes are the upstream's, each used once. Not
/// thread-safe: one per worker, on its loop thread.
class BufferedRandom final : public Random {
 public:
  explicit BufferedRandom(Random& upstream) : upstream_(upstream) {}
  void fill(std::span<uint8_t> out) override;

 private:
  Random& upstream_;
  std::array<uint8_t, 512> buf_{};
  size_t used_ = 512;  ///< bytes of buf_ handed out; all: refill first
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
