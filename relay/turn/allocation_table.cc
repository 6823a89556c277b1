#include "relay/turn/allocation_table.h"

namespace tw::turn {

Allocation* AllocationTable::find(const FiveTuple& tuple) {
  auto it = byTuple_.find(tuple);
  return it == byTuple_.end() ? nullptr : it->second;
}

Allocation* AllocationTable::findById(uint64_t id) {
  auto it = byId_.find(id);
  return it == byId_.end() ? nullptr : it->second.get();
}

Allocation& AllocationTable::insert(std::unique_ptr<Allocation> allocation) {
  Allocation& a = *allocation;
  byTuple_[a.tuple] = &a;
  byId_[a.id] = std::move(allocation);
  return a;
}

std::unique_ptr<Allocation> AllocationTable::remove(uint64_t id) {
  auto it = byId_.find(id);
  if (it == byId_.end()) return nullptr;
  auto owned = std::move(it->second);
  byId_.erase(it);
  byTuple_.erase(owned->tuple);
  return owned;
}

std::vector<uint64_t> AllocationTable::expired(Instant now) const {
  std::vector<uint64_t> out;
  for (const auto& [id, a] : byId_)
    if (now >= a->expires) out.push_back(id);
  return out;
}

}  // namespace tw::turn
