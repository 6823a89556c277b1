#pragma once
// Time is injected: a SystemClock in production, a ManualClock in tests, so
// timers and credential expiry are tested without sleeping.
#include <chrono>
#include <cstdint>

namespace tw {

using Duration = std::chrono::milliseconds;
/// Monotonic milliseconds since an arbitrary epoch; only differences matter.
using Instant = std::chrono::time_point<std::chrono::steady_clock, Duration>;

class Clock {
 public:
  virtual ~Clock() = default;
  /// Monotonic time for timers.
  virtual Instant now() const = 0;
  /// Wall-clock seconds since the Unix epoch, for REST credential expiry.
  virtual int64_t unixSeconds() const = 0;
};

class SystemClock final : public Clock {
 public:
  Instant now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
  }
  int64_t unixSeconds() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

/// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t unixStart = 1'700'000'000) : unix_(unixStart) {}
  Instant now() const override { return now_; }
  int64_t unixSeconds() const override {
    return unix_ + std::chrono::duration_cast<std::chrono::seconds>(now_.time_since_epoch()).count();
  }
  void advance(Duration d) { now_ += d; }

 private:
  int64_t unix_;
  Instant now_{Duration{1'000'000}};
};

}  // namespace tw
