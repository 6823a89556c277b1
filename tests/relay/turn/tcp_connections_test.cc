#include "relay/turn/tcp_connections.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <set>

using namespace tw;
using namespace tw::turn;

namespace {

/// Randomness that replays a script: the fault injection a CONNECTION-ID
/// allocator must survive (zero and collisions).
struct ScriptedRandom : Random {
  std::vector<uint32_t> script;
  size_t next = 0;
  void fill(std::span<uint8_t> out) override {
    REQUIRE(out.size() == 4);  // u32() draws 4 bytes
    const uint32_t v = script[next++ % script.size()];
    std::memcpy(out.data(), &v, 4);
  }
};

TcpConnection conn(uint32_t id, uint64_t alloc, const char* peer, TcpState s, Instant deadline) {
  TcpConnection c;
  c.id = id;
  c.allocationId = alloc;
  c.peer = *SocketAddress::parse(peer);
  c.state = s;
  c.deadline = deadline;
  return c;
}

}  // namespace

TEST_CASE("tcp connections: ids come from the random source, never 0, never reused while live") {
  TcpConnectionTable t;
  ScriptedRandom rng;
  rng.script = {0, 7, 7, 9};
  const uint32_t a = t.newId(rng);
  CHECK(a == 7);  // 0 skipped
  t.insert(conn(a, 1, "127.0.0.1:80", TcpState::Pending, Instant{}));
  CHECK(t.newId(rng) == 9);  // the live 7 is skipped

  CsprngRandom real;
  std::set<uint32_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(t.newId(real));
  CHECK(seen.size() > 990);  // 32 random bits: collisions are rare
  CHECK(seen.count(0) == 0);
}

TEST_CASE("tcp connections: findPeer looks only among the allocation's ids") {
  TcpConnectionTable t;
  t.insert(conn(11, 1, "10.0.0.1:80", TcpState::Pending, Instant{}));
  t.insert(conn(12, 2, "10.0.0.2:80", TcpState::Bound, Instant{}));
  const std::vector<uint32_t> mine{11};
  CHECK(t.findPeer(mine, *SocketAddress::parse("10.0.0.1:80"))->id == 11);
  CHECK(t.findPeer(mine, *SocketAddress::parse("10.0.0.1:81")) == nullptr);
  CHECK(t.findPeer(mine, *SocketAddress::parse("10.0.0.2:80")) == nullptr);  // another allocation's
}

TEST_CASE("tcp connections: only unbound connections past their deadline expire") {
  TcpConnectionTable t;
  const Instant now = Instant{} + std::chrono::seconds(100);
  t.insert(conn(1, 1, "10.0.0.1:1", TcpState::Connecting, now - std::chrono::seconds(1)));
  t.insert(conn(2, 1, "10.0.0.1:2", TcpState::Pending, now));
  t.insert(conn(3, 1, "10.0.0.1:3", TcpState::Pending, now + std::chrono::seconds(1)));
  t.insert(conn(4, 1, "10.0.0.1:4", TcpState::Bound, now - std::chrono::seconds(60)));
  auto ids = t.expired(now);
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<uint32_t>{1, 2});
  t.erase(1);
  CHECK(t.find(1) == nullptr);
  CHECK(t.size() == 3);
}
