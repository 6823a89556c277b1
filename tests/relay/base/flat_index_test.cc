#include "relay/base/flat_index.h"

#include <catch2/catch.hpp>
#include <memory>
#include <random>
#include <unordered_map>

using tw::FlatIndex;

namespace {

struct Item {
  uint64_t key;
};
struct KeyOf {
  const uint64_t& operator()(const Item& i) const { return i.key; }
};
/// A poor hash on purpose: keys collide in groups of 8, so probing runs are
/// long and erase's backward shift wraps around the end of the table.
struct ClumpyHash {
  size_t operator()(uint64_t k) const { return static_cast<size_t>((k / 8) * 0x9e3779b97f4a7c15ULL); }
};
using Index = FlatIndex<Item, uint64_t, KeyOf, ClumpyHash>;

}  // namespace

TEST_CASE("FlatIndex: find, replace and erase") {
  Index index;
  Item a{1}, b{2}, a2{1};
  CHECK(index.find(1) == nullptr);
  CHECK_FALSE(index.erase(1));
  index.insert(&a);
  index.insert(&b);
  CHECK(index.find(1) == &a);
  CHECK(index.find(2) == &b);
  index.insert(&a2);  // an equal key replaces
  CHECK(index.find(1) == &a2);
  CHECK(index.size() == 2);
  CHECK(index.erase(1));
  CHECK(index.find(1) == nullptr);
  CHECK(index.find(2) == &b);
  CHECK(index.size() == 1);
}

TEST_CASE("FlatIndex: agrees with std::unordered_map through 200,000 random inserts and erases") {
  std::mt19937_64 rng(20261202);
  std::unordered_map<uint64_t, std::unique_ptr<Item>> model;
  Index index;
  for (int step = 0; step < 200000; ++step) {
    const uint64_t key = rng() % 3000;  // small key space: many hits, erases and re-inserts
    if (rng() % 3 == 0) {
      // The index reads keys from its items: erase it first, while the
      // model still owns the item.
      const bool erased = index.erase(key);
      CHECK(erased == (model.erase(key) == 1));
    } else {
      auto item = std::make_unique<Item>(Item{key});
      index.insert(item.get());
      model[key] = std::move(item);
    }
    if (step % 1000 == 0) {
      REQUIRE(index.size() == model.size());
      for (uint64_t k = 0; k < 3000; ++k) {
        auto it = model.find(k);
        REQUIRE(index.find(k) == (it == model.end() ? nullptr : it->second.get()));
      }
    }
  }
}
