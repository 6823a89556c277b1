#pragma once
// The allocations one worker owns, found by 5-tuple (client packets) and by
// id (peer packets arriving on a relay socket).
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "relay/turn/allocation.h"

namespace tw::turn {

class AllocationTable {
 public:
  Allocation* find(const FiveTuple& tuple);
  Allocation* findById(uint64_t id);
  /// Takes ownership; the tuple must be free.
  Allocation& insert(std::unique_ptr<Allocation> allocation);
  /// Removes and returns the allocation so the caller can release its
  /// resources (relay socket, port) before it is destroyed.
  std::unique_ptr<Allocation> remove(uint64_t id);
  /// Ids of allocations whose lifetime has ended.
  std::vector<uint64_t> expired(Instant now) const;
  size_t size() const { return byId_.size(); }
  template <class F>
  void forEach(F&& f) {
    for (auto& [id, a] : byId_) f(*a);
  }

 private:
  std::unordered_map<uint64_t, std::unique_ptr<Allocation>> byId_;
  std::unordered_map<FiveTuple, Allocation*> byTuple_;
};

}  // namespace tw::turn
