#pragma once
// Splits one libFuzzer input into typed pieces (what FuzzedDataProvider does,
// written here because the same targets also build with GCC as corpus
// replay tests). Reading past the end yields zeros and empty spans, never an
// error, so every input is a valid program for the target.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

namespace tw::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : rest_(data, size) {}

  bool empty() const { return rest_.empty(); }
  size_t remaining() const { return rest_.size(); }

  uint8_t u8() {
    if (rest_.empty()) return 0;
    const uint8_t v = rest_[0];
    rest_ = rest_.subspan(1);
    return v;
  }
  uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
  uint32_t u32() { return static_cast<uint32_t>(u16()) << 16 | u16(); }
  uint64_t u64() { return static_cast<uint64_t>(u32()) << 32 | u32(); }

  /// Up to `n` bytes (fewer at the end of the input).
  std::span<const uint8_t> bytes(size_t n) {
    const size_t take = n < rest_.size() ? n : rest_.size();
    auto out = rest_.first(take);
    rest_ = rest_.subspan(take);
    return out;
  }
  /// A chunk whose length is the next 16-bit value, capped at `max`.
  std::span<const uint8_t> chunk(size_t max) { return bytes(u16() % (max + 1)); }
  std::string_view text(size_t n) {
    auto b = bytes(n);
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }
  std::span<const uint8_t> all() { return bytes(rest_.size()); }

 private:
  std::span<const uint8_t> rest_;
};

/// An invariant of the code under test does not hold: report it the way a
/// sanitizer would (message, then abort), so libFuzzer keeps the input.
[[noreturn]] inline void invariantFailed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz invariant violated: %s (%s:%d)\n", what, file, line);
  std::abort();
}

}  // namespace tw::fuzz

/// Checked in every build type (NDEBUG does not turn it off).
#define FUZZ_CHECK(cond) ((cond) ? void(0) : ::tw::fuzz::invariantFailed(#cond, __FILE__, __LINE__))
