// HubForwarder copies each worker event into the hub's queue; the hub
// replays it, unchanged, into every sink (here without the hub thread:
// flush() replays on the caller).
#include "metrics/event_hub.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "relay/turn/allocation.h"

namespace tw::metrics {
namespace {

const FiveTuple kTuple{*SocketAddress::parse("192.0.2.7:4000"), *SocketAddress::parse("192.0.2.1:3478"),
                       Transport::Udp};
const SocketAddress kPeer = *SocketAddress::parse("203.0.113.9:80");

/// Every event as one line of text.
struct Lines final : turn::RelayEvents {
  std::vector<std::string> lines;
  static std::string where(const FiveTuple& t) { return t.client.toString(); }
  void onAllocationCreated(const turn::Allocation& a) override {
    lines.push_back("created " + std::to_string(a.id) + " " + a.user + " " + where(a.tuple));
  }
  void onAllocationDeleted(const turn::Allocation& a, std::string_view why) override {
    lines.push_back("deleted " + std::to_string(a.id) + " " + a.user + " " + std::string(why));
  }
  void onAuthFailed(std::string_view reason, const FiveTuple& t, std::string_view name) override {
    lines.push_back("auth " + std::string(reason) + " " + where(t) + " " + std::string(name));
  }
  void onPeerDenied(const SocketAddress& p, std::string_view rule, const FiveTuple& t,
                    std::string_view user) override {
    lines.push_back("denied " + p.toString() + " " + std::string(rule) + " " + where(t) + " " +
                    std::string(user));
  }
  void onConnectAttempt(const turn::Allocation& a, const SocketAddress& p) override {
    lines.push_back("connect " + std::to_string(a.id) + " " + a.user + " " + p.toString());
  }
  void onPeerRevoked(const SocketAddress& p, std::string_view rule, const FiveTuple& t,
                     std::string_view user) override {
    lines.push_back("revoked " + p.toString() + " " + std::string(rule) + " " + where(t) + " " +
                    std::string(user));
  }
  void onBanned(const SocketAddress& source, Duration banFor) override {
    lines.push_back("banned " + source.toString() + " " + std::to_string(banFor.count()));
  }
};

TEST_CASE("event hub: each forwarded event reaches every sink as it was reported, in order") {
  Lines one, two;
  EventHub hub({&one, &two}, nullptr);
  HubForwarder fwd(hub, 3);
  turn::Allocation a;
  a.id = 42;
  a.user = "alice";
  a.tuple = kTuple;
  fwd.onAllocationCreated(a);
  fwd.onAuthFailed("bad_integrity", kTuple, "1700000000:mallory");
  fwd.onPeerDenied(kPeer, "rfc1918", kTuple, "alice");
  fwd.onConnectAttempt(a, kPeer);
  fwd.onPeerRevoked(kPeer, "default-deny", kTuple, "alice");
  fwd.onBanned(kTuple.client, std::chrono::minutes(10));
  fwd.onAllocationDeleted(a, "expired");
  hub.flush();
  const std::vector<std::string> expected{
      "created 42 alice 192.0.2.7:4000",
      "auth bad_integrity 192.0.2.7:4000 1700000000:mallory",
      "denied 203.0.113.9:80 rfc1918 192.0.2.7:4000 alice",
      "connect 42 alice 203.0.113.9:80",
      "revoked 203.0.113.9:80 default-deny 192.0.2.7:4000 alice",
      "banned 192.0.2.7:4000 600000",
      "deleted 42 alice expired",
  };
  CHECK(one.lines == expected);
  CHECK(two.lines == expected);
  CHECK(hub.dropped() == 0);
}

TEST_CASE("event hub: a full queue drops the event and counts it") {
  Lines sink;
  EventHub hub({&sink}, nullptr, 1);
  HubForwarder fwd(hub, 0);
  fwd.onPeerDenied(kPeer, "rfc1918", kTuple, "alice");
  fwd.onPeerRevoked(kPeer, "rfc1918", kTuple, "alice");
  CHECK(hub.dropped() == 1);
  hub.flush();
  CHECK(sink.lines == std::vector<std::string>{"denied 203.0.113.9:80 rfc1918 192.0.2.7:4000 alice"});
}

}  // namespace
}  // namespace tw::metrics
