#include "relay/base/random.h"

#include <catch2/catch.hpp>
#include <vector>

namespace tw {
namespace {

/// Counts the upstream calls a BufferedRandom makes.
class CountingRandom final : public Random {
 public:
  explicit CountingRandom(uint64_t seed) : inner_(seed) {}
  void fill(std::span<uint8_t> out) override {
    ++calls;
    inner_.fill(out);
  }
  int calls = 0;

 private:
  SeededRandom inner_;
};

}  // namespace

TEST_CASE("Random::below stays in range and covers it") {
  SeededRandom r(42);
  bool seen[7] = {};
  for (int i = 0; i < 1000; ++i) {
    auto v = r.below(7);
    REQUIRE(v < 7);
    seen[v] = true;
  }
  for (bool s : seen) CHECK(s);
}

TEST_CASE("BufferedRandom hands out the upstream's bytes in order, each once") {
  SeededRandom reference(9);
  std::vector<uint8_t> expected(5000);
  reference.fill(expected);

  CountingRandom upstream(9);
  BufferedRandom buffered(upstream);
  std::vector<uint8_t> got;
  for (size_t n : {1, 3, 4, 7, 500, 13, 2, 8, 300}) {  // requests that cross refills
    std::vector<uint8_t> chunk(n);
    buffered.fill(chunk);
    got.insert(got.end(), chunk.begin(), chunk.end());
  }
  REQUIRE(got.size() == 838);
  CHECK(std::equal(got.begin(), got.end(), expected.begin()));
  CHECK(upstream.calls == 2);  // 838 bytes: two 512-byte refills
}

TEST_CASE("BufferedRandom: many small draws cost one upstream call per 512 bytes") {
  CountingRandom upstream(3);
  BufferedRandom buffered(upstream);
  for (int i = 0; i < 1024; ++i) (void)buffered.u32();  // 4,096 bytes
  CHECK(upstream.calls == 8);
  std::vector<uint8_t> big(2000);  // larger than the buffer: straight upstream
  buffered.fill(big);
  CHECK(upstream.calls == 9);
  CHECK(buffered.below(10) < 10);
}

}  // namespace tw
