#include "relay/turn/connection_directory.h"

namespace tw::turn {

uint32_t ConnectionDirectory::claim(Random& rng, uint32_t worker, std::string_view user) {
  std::lock_guard lock(mu_);
  for (;;) {
    const uint32_t id = rng.u32();
    if (id == 0) continue;
    if (entries_.try_emplace(id, Entry{worker, State::Claimed, std::string(user)}).second) return id;
  }
}

void ConnectionDirectory::markPending(uint32_t id) {
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(id); it != entries_.end()) it->second.state = State::Pending;
}

std::optional<uint32_t> ConnectionDirectory::takeForBind(uint32_t id, std::string_view user) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.state != State::Pending || it->second.user != user)
    return std::nullopt;
  it->second.state = State::Bound;
  return it->second.worker;
}

void ConnectionDirectory::release(uint32_t id) {
  std::lock_guard lock(mu_);
  entries_.erase(id);
}

size_t ConnectionDirectory::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace tw::turn
