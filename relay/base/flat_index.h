#pragma once
// An open-addressing index from a key to an object that carries that key
// (Allocation by 5-tuple, by id): the lookups on every relayed packet.
//
// std::unordered_map costs up to three dependent cache misses per lookup
// (the bucket array, the node before the bucket's first node, the node).
// With 9,500 allocations the scale benchmark put a third of its extra CPU
// per packet there. Here a lookup reads one 16-byte slot (the full hash and
// the pointer) and compares the key in the object itself, which the caller
// reads next anyway. Linear probing, at most half full, power-of-two size;
// erase shifts the following run back, so there are no tombstones and a
// long-lived table does not degrade.
//
// Not thread-safe (each worker owns its tables). The index does not own
// its objects; a key must be unique (insert replaces an equal key).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tw {

/// KeyOf: `const Key& operator()(const T&)`; Hash: `size_t operator()(const Key&)`.
template <class T, class Key, class KeyOf, class Hash>
class FlatIndex {
 public:
  T* find(const Key& key) const {
    if (slots_.empty()) return nullptr;
    const size_t h = Hash{}(key);
    for (size_t i = h & mask();; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (!s.value) return nullptr;
      if (s.hash == h && KeyOf{}(*s.value) == key) return s.value;
    }
  }

  void insert(T* value) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const size_t h = Hash{}(KeyOf{}(*value));
    size_t i = h & mask();
    for (; slots_[i].value; i = (i + 1) & mask()) {
      if (slots_[i].hash == h && KeyOf{}(*slots_[i].value) == KeyOf{}(*value)) {
        slots_[i].value = value;
        return;
      }
    }
    slots_[i] = Slot{h, value};
    ++size_;
  }

  /// Removes `key`'s entry; false if there was none.
  bool erase(const Key& key) {
    if (slots_.empty()) return false;
    const size_t h = Hash{}(key);
    size_t i = h & mask();
    for (;; i = (i + 1) & mask()) {
      if (!slots_[i].value) return false;
      if (slots_[i].hash == h && KeyOf{}(*slots_[i].value) == key) break;
    }
    // Backward shift: move each later entry of the run into the hole when
    // its home slot does not lie (cyclically) between the hole and it.
    for (size_t j = (i + 1) & mask(); slots_[j].value; j = (j + 1) & mask()) {
      const size_t home = slots_[j].hash & mask();
      const bool homeBetween = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (homeBetween) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i] = Slot{};
    --size_;
    return true;
  }

  size_t size() const { return size_; }

 private:
  struct Slot {
    size_t hash = 0;
    T* value = nullptr;
  };

  size_t mask() const { return slots_.size() - 1; }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    size_ = 0;
    for (const Slot& s : old)
      if (s.value) insert(s.value);
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace tw
