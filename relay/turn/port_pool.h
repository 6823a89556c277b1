#pragma once
// Relay port pool for one relay address (RFC 8656 §7.2, EVEN-PORT and
// RESERVATION-TOKEN). Shared by all workers: acquire/release take a mutex
// (they happen once per allocation), while isLive() — asked on the packet
// path to recognise relay-to-relay traffic — reads an atomic bitset.
#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "relay/base/clock.h"
#include "relay/base/random.h"

namespace tw::turn {

class PortPool {
 public:
  /// Ports [first, last] inclusive; first <= last.
  PortPool(uint16_t first, uint16_t last);

  struct Lease {
    uint16_t port;
    std::optional<uint64_t> token;  // set when the next port was reserved
  };

  /// Picks a free port at random (CSPRNG in production). `even` asks for an
  /// even port; `reserveNext` (EVEN-PORT R=1) also holds port+1 for `hold`
  /// and returns a token for it. nullopt: the pool is exhausted.
  std::optional<Lease> acquire(Random& rng, bool even, bool reserveNext, Instant now,
                               Duration hold = std::chrono::seconds(30));
  /// Takes the port held under `token`; nullopt if unknown or expired.
  std::optional<uint16_t> redeem(uint64_t token, Instant now);
  void release(uint16_t port);
  /// Marks a port as unusable until `until` (another process holds it).
  void quarantine(uint16_t port, Instant until);
  /// Returns expired reservations to the pool.
  void expireReservations(Instant now);

  bool isLive(uint16_t port) const;
  size_t inUse() const;
  size_t capacity() const { return static_cast<size_t>(last_ - first_) + 1; }
  uint16_t first() const { return first_; }
  uint16_t last() const { return last_; }

 private:
  struct Reservation {
    uint16_t port;
    Instant until;
  };
  bool taken(uint16_t port) const;
  void mark(uint16_t port, bool used);
  std::optional<uint16_t> pick(Random& rng, bool even, bool needNext) const;

  uint16_t first_, last_;
  mutable std::mutex mu_;
  std::array<std::atomic<uint64_t>, 1024> bits_{};  // 65536 bits: port in use
  size_t used_ = 0;
  std::unordered_map<uint64_t, Reservation> reservations_;
  std::vector<Reservation> quarantined_;
};

}  // namespace tw::turn
