#include "relay/turn/ban_table.h"

#include <algorithm>
#include <utility>

namespace tw::turn {

void BanTable::unban(Record& r) {
  if (!r.banned) return;
  r = Record{};
  active_.fetch_sub(1, std::memory_order_relaxed);
}

bool BanTable::isBanned(const SocketAddress& source, Instant now) {
  if (active_.load(std::memory_order_relaxed) == 0) return false;
  std::lock_guard lock(mu_);
  auto* e = table_.find(clientKey(source, v6Prefix_));
  if (!e || !e->value.banned) return false;
  if (now < e->value.bannedUntil) return true;
  unban(e->value);
  return false;
}

bool BanTable::recordFailure(const SocketAddress& from, Instant now, const policy::BansConfig& cfg) {
  if (cfg.threshold == 0) return false;
  const SocketAddress source = clientKey(from, v6Prefix_);
  std::lock_guard lock(mu_);
  auto& e = table_.touch(source, now, [](const auto& x) { return x.value.banned; });
  Record& r = e.value;
  if (r.banned) {
    // Evicting the victim entry never drops a ban; an entry evicted anyway
    // (a full set of bans) must not be counted twice.
    return false;
  }
  if (r.failures == 0 || now - r.windowStart > cfg.window) {
    r.windowStart = now;
    r.failures = 0;
  }
  if (++r.failures <= cfg.threshold) return false;
  r.banned = true;
  r.bannedUntil = now + cfg.banFor;
  active_.fetch_add(1, std::memory_order_relaxed);
  if (newBans_.size() < kMaxNewBans)
    newBans_.push_back(Ban{source.ip, source.port, r.bannedUntil, r.failures});
  return true;
}

void BanTable::impose(const SocketAddress& source, Instant now, Instant until) {
  std::lock_guard lock(mu_);
  auto& e = table_.touch(clientKey(source, v6Prefix_), now, [](const auto& x) { return x.value.banned; });
  Record& r = e.value;
  if (until <= now) return;
  if (!r.banned) active_.fetch_add(1, std::memory_order_relaxed);
  r.banned = true;
  r.bannedUntil = std::max(r.bannedUntil, until);
}

std::vector<BanTable::Ban> BanTable::takeNewBans() {
  std::lock_guard lock(mu_);
  return std::exchange(newBans_, {});
}

std::vector<BanTable::Ban> BanTable::list(Instant now) {
  std::vector<Ban> out;
  std::lock_guard lock(mu_);
  table_.forEach([&](auto& e) {
    if (e.value.banned && now < e.value.bannedUntil)
      out.push_back(Ban{e.key.ip, e.key.port, e.value.bannedUntil, e.value.failures});
  });
  return out;
}

bool BanTable::lift(const IpAddress& address) {
  const IpAddress ip = clientKey(address, v6Prefix_);
  std::lock_guard lock(mu_);
  bool lifted = false;
  table_.forEach([&](auto& e) {
    if (e.key.ip != ip || !e.value.banned) return;
    unban(e.value);
    lifted = true;
  });
  return lifted;
}

void BanTable::expire(Instant now) {
  if (active_.load(std::memory_order_relaxed) == 0) return;
  std::lock_guard lock(mu_);
  size_t still = 0;
  table_.forEach([&](auto& e) {
    if (e.value.banned && now >= e.value.bannedUntil) e.value = Record{};
    still += e.value.banned ? 1 : 0;
  });
  // Recounted rather than decremented: a ban evicted from a full set of
  // bans leaves no trace to decrement.
  active_.store(still, std::memory_order_relaxed);
}

}  // namespace tw::turn
