#include "relay/turn/allocation_table.h"

namespace tw::turn {

Allocation* AllocationTable::find(const FiveTuple& tuple) { return byTuple_.find(tuple); }

Allocation* AllocationTable::findById(uint64_t id) { return byId_.find(id); }

Allocation& AllocationTable::insert(std::unique_ptr<Allocation> allocation) {
  Allocation& a = *allocation;
  owned_[a.id] = std::move(allocation);
  byTuple_.insert(&a);
  byId_.insert(&a);
  return a;
}

std::unique_ptr<Allocation> AllocationTable::remove(uint64_t id) {
  auto it = owned_.find(id);
  if (it == owned_.end()) return nullptr;
  auto owned = std::move(it->second);
  owned_.erase(it);
  byTuple_.erase(owned->tuple);
  byId_.erase(id);
  return owned;
}

std::vector<uint64_t> AllocationTable::expired(Instant now) const {
  std::vector<uint64_t> out;
  for (const auto& [id, a] : owned_)
    if (now >= a->expires) out.push_back(id);
  return out;
}

}  // namespace tw::turn
