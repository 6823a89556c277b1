// Fleet mode's usage buffer (relay/fleet/usage_stream.*): bounded while Redis
// is away, the oldest records go first and are counted, unsent ones go back
// in front in order.
#include "relay/fleet/usage_stream.h"

#include <catch2/catch.hpp>

using tw::fleet::UsageStream;

TEST_CASE("usage stream: bounded, drops the oldest and counts them") {
  UsageStream s(3, 5000);
  for (int i = 0; i < 5; ++i) s.push("r" + std::to_string(i) + "\n");
  CHECK(s.size() == 3);
  CHECK(s.takeDropped() == 2);
  CHECK(s.takeDropped() == 0);                                      // counted once
  CHECK(s.take(10) == std::vector<std::string>{"r2", "r3", "r4"});  // newline trimmed
  CHECK(s.maxLen() == 5000);
}

TEST_CASE("usage stream: unsent records go back in front, as many as fit") {
  UsageStream s(3, 1000);
  s.push("a");
  s.push("b");
  s.push("c");
  auto batch = s.take(2);
  CHECK(batch == std::vector<std::string>{"a", "b"});
  s.push("d");
  s.giveBack(batch);  // room for one of the two: "b" stays, "a" is dropped
  CHECK(s.takeDropped() == 1);
  CHECK(s.take(10) == std::vector<std::string>{"b", "c", "d"});
}
