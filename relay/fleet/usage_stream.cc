#include "relay/fleet/usage_stream.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace tw::fleet {

void UsageStream::push(std::string record) {
  if (!record.empty() && record.back() == '\n') record.pop_back();
  std::lock_guard lock(mu_);
  if (records_.size() >= capacity_) {
    records_.pop_front();  // the oldest goes: the newest say most about now
    ++dropped_;
  }
  records_.push_back(std::move(record));
}

std::vector<std::string> UsageStream::take(size_t max) {
  std::lock_guard lock(mu_);
  const size_t n = std::min(max, records_.size());
  std::vector<std::string> out(std::make_move_iterator(records_.begin()),
                               std::make_move_iterator(records_.begin() + std::ptrdiff_t(n)));
  records_.erase(records_.begin(), records_.begin() + std::ptrdiff_t(n));
  return out;
}

void UsageStream::giveBack(std::vector<std::string> records) {
  std::lock_guard lock(mu_);
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    if (records_.size() >= capacity_) {
      dropped_ += uint64_t(records.rend() - it);
      return;
    }
    records_.push_front(std::move(*it));
  }
}

uint64_t UsageStream::takeDropped() {
  std::lock_guard lock(mu_);
  return std::exchange(dropped_, 0);
}

size_t UsageStream::size() const {
  std::lock_guard lock(mu_);
  return records_.size();
}

}  // namespace tw::fleet
