#pragma once
// The allocations one worker owns, found by 5-tuple (client packets) and by
// id (peer packets arriving on a relay socket).
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "relay/base/flat_index.h"
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
  size_t size() const { return owned_.size(); }
  template <class F>
  void forEach(F&& f) {
    for (auto& [id, a] : owned_) f(*a);
  }

 private:
  struct TupleOf {
    const FiveTuple& operator()(const Allocation& a) const { return a.tuple; }
  };
  struct IdOf {
    const uint64_t& operator()(const Allocation& a) const { return a.id; }
  };
  struct IdHash {
    size_t operator()(uint64_t id) const {
      const uint64_t x = id * 0x9e3779b97f4a7c15ULL;  // spreads ids into the low (slot) bits
      return static_cast<size_t>(x ^ (x >> 32));
    }
  };
  /// Owns the allocations (iteration, expiry); the two indexes serve the
  /// per-packet lookups (flat_index.h).
  std::unordered_map<uint64_t, std::unique_ptr<Allocation>> owned_;
  FlatIndex<Allocation, FiveTuple, TupleOf, std::hash<FiveTuple>> byTuple_;
  FlatIndex<Allocation, uint64_t, IdOf, IdHash> byId_;
};

}  // namespace tw::turn
