#include "relay/turn/quota_book.h"

namespace tw::turn {

std::string_view toString(QuotaRefusal r) {
  switch (r) {
    case QuotaRefusal::PerUser:
      return "user_quota";
    case QuotaRefusal::PerIp:
      return "ip_quota";
    case QuotaRefusal::Total:
      return "total_quota";
    case QuotaRefusal::TotalBps:
      return "bandwidth_quota";
    case QuotaRefusal::kCount:
      break;
  }
  return "quota";
}

namespace {
template <class Map, class Key>
size_t countOf(const Map& m, const Key& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

template <class Map, class Key>
void decrement(Map& m, const Key& k) {
  auto it = m.find(k);
  if (it == m.end()) return;
  if (--it->second == 0) m.erase(it);  // memory follows live allocations only
}
}  // namespace

std::string QuotaBook::userKey(const std::string& username, const IpAddress& ip) {
  return policy::perUserKey(username, ip);
}

Status<QuotaRefusal> QuotaBook::acquire(const std::string& username, const IpAddress& from, uint64_t bps,
                                        const policy::QuotasConfig& q) {
  const IpAddress ip = clientKey(from, v6Prefix_);
  const std::string user = userKey(username, ip);
  std::lock_guard lock(mu_);
  if (q.total != 0 && total_ >= q.total) return tw::err(QuotaRefusal::Total);
  const size_t userCount = countOf(perUser_, user) + countOf(fleet_.users, user);
  if (q.perUser != 0 && userCount >= q.perUser) return tw::err(QuotaRefusal::PerUser);
  if (q.perIp != 0 && countOf(perIp_, ip) + countOf(fleet_.ips, ip) >= q.perIp)
    return tw::err(QuotaRefusal::PerIp);
  if (q.totalBps != 0 && bps_ + bps > q.totalBps) return tw::err(QuotaRefusal::TotalBps);
  ++perUser_[user];
  ++perIp_[ip];
  ++total_;
  ++changes_;
  bps_ += bps;
  return {};
}

void QuotaBook::release(const std::string& username, const IpAddress& from, uint64_t bps) {
  const IpAddress ip = clientKey(from, v6Prefix_);
  const std::string user = userKey(username, ip);
  std::lock_guard lock(mu_);
  decrement(perUser_, user);
  decrement(perIp_, ip);
  if (total_ > 0) --total_;
  ++changes_;
  bps_ -= std::min(bps_, bps);
}

void QuotaBook::setFleetCounts(policy::QuotaCounts others) {
  std::lock_guard lock(mu_);
  fleet_ = std::move(others);
}

policy::QuotaCounts QuotaBook::localCounts() const {
  std::lock_guard lock(mu_);
  return {{perUser_.begin(), perUser_.end()}, {perIp_.begin(), perIp_.end()}};
}

uint64_t QuotaBook::changes() const {
  std::lock_guard lock(mu_);
  return changes_;
}

size_t QuotaBook::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

size_t QuotaBook::forUser(const std::string& username, const IpAddress& ip) const {
  const std::string user = userKey(username, clientKey(ip, v6Prefix_));
  std::lock_guard lock(mu_);
  return countOf(perUser_, user);
}

size_t QuotaBook::forIp(const IpAddress& ip) const {
  std::lock_guard lock(mu_);
  return countOf(perIp_, clientKey(ip, v6Prefix_));
}

uint64_t QuotaBook::reservedBps() const {
  std::lock_guard lock(mu_);
  return bps_;
}

}  // namespace tw::turn
