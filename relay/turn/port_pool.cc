#include "relay/turn/port_pool.h"

namespace tw::turn {

PortPool::PortPool(uint16_t first, uint16_t last) : first_(first), last_(last) {}

bool PortPool::taken(uint16_t port) const {
  return (bits_[port >> 6].load(std::memory_order_relaxed) >> (port & 63)) & 1;
}

void PortPool::mark(uint16_t port, bool used) {
  const uint64_t bit = uint64_t{1} << (port & 63);
  if (used) {
    bits_[port >> 6].fetch_or(bit, std::memory_order_relaxed);
    ++used_;
  } else {
    bits_[port >> 6].fetch_and(~bit, std::memory_order_relaxed);
    --used_;
  }
}

std::optional<uint16_t> PortPool::pick(Random& rng, bool even, bool needNext) const {
  // Start at a random offset and scan: uniform enough, bounded, and never
  // predictable from outside (the offset comes from the injected CSPRNG).
  const uint32_t span = static_cast<uint32_t>(last_ - first_) + 1;
  const uint32_t start = rng.below(span);
  for (uint32_t i = 0; i < span; ++i) {
    const uint32_t port = first_ + (start + i) % span;
    if (even && (port & 1)) continue;
    if (taken(static_cast<uint16_t>(port))) continue;
    if (needNext && (port >= last_ || taken(static_cast<uint16_t>(port + 1)))) continue;
    return static_cast<uint16_t>(port);
  }
  return std::nullopt;
}

std::optional<PortPool::Lease> PortPool::acquire(Random& rng, bool even, bool reserveNext, Instant now,
                                                 Duration hold) {
  std::lock_guard lock(mu_);
  auto port = pick(rng, even, reserveNext);
  if (!port) return std::nullopt;
  mark(*port, true);
  Lease lease{*port, std::nullopt};
  if (reserveNext) {
    mark(static_cast<uint16_t>(*port + 1), true);
    uint64_t token;
    do {
      token = rng.u64();
    } while (reservations_.count(token));
    reservations_[token] = Reservation{static_cast<uint16_t>(*port + 1), now + hold};
    lease.token = token;
  }
  return lease;
}

std::optional<uint16_t> PortPool::redeem(uint64_t token, Instant now) {
  std::lock_guard lock(mu_);
  auto it = reservations_.find(token);
  if (it == reservations_.end()) return std::nullopt;
  const Reservation r = it->second;
  reservations_.erase(it);
  if (now >= r.until) {
    mark(r.port, false);
    return std::nullopt;
  }
  return r.port;  // stays marked: ownership moves to the new allocation
}

void PortPool::release(uint16_t port) {
  std::lock_guard lock(mu_);
  if (taken(port)) mark(port, false);
}

void PortPool::quarantine(uint16_t port, Instant until) {
  std::lock_guard lock(mu_);
  if (taken(port)) return;
  mark(port, true);
  quarantined_.push_back(Reservation{port, until});
}

void PortPool::expireReservations(Instant now) {
  std::lock_guard lock(mu_);
  for (auto it = reservations_.begin(); it != reservations_.end();) {
    if (now >= it->second.until) {
      mark(it->second.port, false);
      it = reservations_.erase(it);
    } else {
      ++it;
    }
  }
  std::erase_if(quarantined_, [&](const Reservation& q) {
    if (now < q.until) return false;
    mark(q.port, false);
    return true;
  });
}

bool PortPool::isLive(uint16_t port) const { return taken(port); }

size_t PortPool::inUse() const {
  std::lock_guard lock(mu_);
  return used_;
}

}  // namespace tw::turn
