#include "relay/turn/connection_directory.h"

#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "relay/turn/tcp_connections.h"

namespace tw::turn {
namespace {

TEST_CASE("connection directory: a bind needs Pending and the same user, and succeeds once") {
  ConnectionDirectory d;
  CsprngRandom rng;
  const uint32_t id = d.claim(rng, 1, "alice");
  CHECK(id != 0);
  CHECK_FALSE(d.takeForBind(id, "alice"));  // still connecting
  d.markPending(id);
  CHECK_FALSE(d.takeForBind(id, "mallory"));  // another user's id
  CHECK(d.takeForBind(id, "alice") == 1u);    // names the owning worker
  CHECK_FALSE(d.takeForBind(id, "alice"));    // only once
  CHECK_FALSE(d.takeForBind(id + 1, "alice"));
  d.release(id);
  CHECK(d.size() == 0);
}

TEST_CASE("connection directory: ids are unique across workers claiming at once") {
  ConnectionDirectory d;
  std::vector<std::vector<uint32_t>> ids(4);
  std::vector<std::thread> workers;
  for (uint32_t w = 0; w < 4; ++w)
    workers.emplace_back([&, w] {
      CsprngRandom rng;
      for (int i = 0; i < 2000; ++i) ids[w].push_back(d.claim(rng, w, "u"));
    });
  for (auto& t : workers) t.join();
  CHECK(d.size() == 8000);  // no id was handed out twice
}

TEST_CASE("connection directory: a worker's table claims and releases through it") {
  ConnectionDirectory shared;
  TcpConnectionTable a, b;
  a.attach(shared, 0);
  b.attach(shared, 1);
  CsprngRandom rng;
  const uint32_t id = b.newId(rng, "bob");
  b.directory().markPending(id);
  CHECK(a.directory().takeForBind(id, "bob") == 1u);  // found from worker 0, owned by 1
  b.erase(id);
  CHECK(shared.size() == 0);
}

}  // namespace
}  // namespace tw::turn
