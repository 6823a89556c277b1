// usage_top_user_bytes' tally (usage/top_users.*): each allocation counts
// with its latest record while it is within the last interval; at most N.
#include "relay/usage/top_users.h"

#include <catch2/catch.hpp>

using namespace tw;
using namespace tw::usage;

TEST_CASE("top users: latest record per allocation, summed per user, most first") {
  TopUsers top(std::chrono::seconds(5));
  top.add(1, "alice", 100, 1000);
  top.add(2, "alice", 50, 1000);  // a second allocation of alice
  top.add(3, "bob", 120, 1000);
  top.add(4, "carol", 0, 1000);  // no bytes: never listed
  CHECK(top.top(10, 1001) == std::vector<UserBytes>{{"alice", 150}, {"bob", 120}});
  CHECK(top.top(1, 1001) == std::vector<UserBytes>{{"alice", 150}});
  CHECK(top.top(0, 1001).empty());
  top.add(1, "alice", 10, 1005);  // the next interval replaces allocation 1's count
  CHECK(top.top(10, 1005) == std::vector<UserBytes>{{"bob", 120}, {"alice", 60}});
  // Records older than the interval (and a tick) drop out.
  CHECK(top.top(10, 1006) == std::vector<UserBytes>{{"bob", 120}, {"alice", 60}});
  CHECK(top.top(10, 1007) == std::vector<UserBytes>{{"alice", 10}});
  CHECK(top.top(10, 1012).empty());
}

TEST_CASE("top users: ties are ordered by name, so the series are stable") {
  TopUsers top(std::chrono::seconds(60));
  top.add(1, "zed", 7, 100);
  top.add(2, "amy", 7, 100);
  CHECK(top.top(2, 100) == std::vector<UserBytes>{{"amy", 7}, {"zed", 7}});
}
