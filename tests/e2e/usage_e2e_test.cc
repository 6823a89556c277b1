// Usage records of the live binary (docs/usage.md): bytes the e2e client
// relays show up exactly in the records and in `turnwarden usage`; interim
// records add up to the final one; records survive a reload (SIGHUP) and a
// clean stop (SIGTERM ends the last allocation with a final record); the
// per-user volume limit stops relaying within one tick and answers 486.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "policy/credentials.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

constexpr const char* kSecret = "usageusageusageusageusageusage00";

/// Relative files land in the server's own temp dir (next to its config).
std::string config(uint16_t port, const std::string& extra) {
  return testing::udpListenerYaml("usage.test", port) +
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 47600-47699\n"
         "auth:\n  secrets: [{id: k1, value: \"" +
         kSecret +
         "\"}]\n"
         "peers:\n  allowed: [127.0.0.1/32]\n"
         "metrics:\n  enabled: false\n"
         "events:\n  file: events.jsonl\n"
         "usage:\n  file: usage.jsonl\n  interval: 1s\n" +
         extra;
}

/// The live binary with usage records every second.
struct Live {
  explicit Live(const std::string& extra = "") : port(testing::freeUdpPort()), server(config(port, extra)) {
    REQUIRE(server.ready());
  }
  uint16_t port;
  ServerProcess server;
  std::string file(const std::string& name = "usage.jsonl") const { return server.dir() + "/" + name; }
};

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

/// Every record of `allocation` in `path`, in file order.
std::vector<std::string> recordsOf(const std::string& path, const std::string& user) {
  std::vector<std::string> out;
  for (const auto& l : lines(path))
    if (l.find("\"user\":\"" + user + "\"") != std::string::npos) out.push_back(l);
  return out;
}

uint64_t field(const std::string& record, const std::string& key) {
  const std::string k = "\"" + key + "\":";
  const size_t at = record.find(k);
  REQUIRE(at != std::string::npos);
  return std::stoull(record.substr(at + k.size()));
}

/// A client with a live allocation of `name`, and its peer: a loopback socket.
struct Session {
  StunClient client;
  std::optional<StunClient> peer;
  explicit Session(uint16_t port, const std::string& name)
      : client(*SocketAddress::parse("127.0.0.1:" + std::to_string(port))) {
    const std::string user = std::to_string(std::time(nullptr) + 3600) + ":" + name;
    client.setCredentials(user, policy::restPassword(kSecret, user));
    auto alloc = client.allocate();
    REQUIRE(alloc);
    REQUIRE(alloc->code == 0);
    peer.emplace(*alloc->msg().xorRelayedAddress());
    REQUIRE(client.createPermission(peer->local())->code == 0);
  }
  /// `n` Send indications of `size` bytes, each seen by the peer.
  void toPeer(int n, size_t size) {
    for (int i = 0; i < n; ++i) {
      client.sendIndication(peer->local(), std::vector<uint8_t>(size, uint8_t(i)));
      REQUIRE(peer->receive(2000));
    }
  }
  void toClient(int n, size_t size) {
    for (int i = 0; i < n; ++i) {
      peer->send(std::vector<uint8_t>(size, 0xAB));
      REQUIRE(client.receive(2000));
    }
  }
};

/// Waits (bounded) until `user` has a record matching `what`.
bool awaitRecord(const std::string& path, const std::string& user, const std::string& what) {
  for (int i = 0; i < 60; ++i) {
    for (const auto& r : recordsOf(path, user))
      if (r.find(what) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

/// `turnwarden usage ARGS`: its exit status and stdout; stderr to `err`.
std::pair<int, std::string> report(const std::string& args, const std::string& err) {
  const std::string cmd = std::string(TW_BINARY) + " usage " + args + " 2>" + err;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST_CASE("live usage: relayed bytes show up exactly in the records and the report") {
  Live live;
  ServerProcess& server = live.server;
  const std::string file = live.file();
  Session alice(live.port, "alice");
  Session bob(live.port, "bob");
  alice.toPeer(5, 100);
  alice.toClient(3, 64);
  REQUIRE(awaitRecord(file, "alice", "\"type\":\"interim\""));
  REQUIRE(::kill(server.pid(), SIGHUP) == 0);  // a reload keeps the writer and the counts
  alice.toPeer(2, 100);
  bob.toPeer(4, 250);
  REQUIRE(alice.client.refresh(0)->code == 0);
  REQUIRE(awaitRecord(file, "alice", "\"end_reason\":\"deleted\""));
  CHECK(server.stop() == 0);  // bob's allocation ends with the server

  const auto recs = recordsOf(file, "alice");
  REQUIRE(recs.size() >= 2);
  uint64_t toPeer = 0, toClient = 0, packetsToPeer = 0, packetsToClient = 0;
  for (size_t i = 0; i < recs.size(); ++i) {
    CHECK(field(recs[i], "seq") == i);
    CHECK((recs[i].find("\"type\":\"final\"") != std::string::npos) == (i + 1 == recs.size()));
    toPeer += field(recs[i], "bytes_to_peer");
    toClient += field(recs[i], "bytes_to_client");
    packetsToPeer += field(recs[i], "packets_to_peer");
    packetsToClient += field(recs[i], "packets_to_client");
  }
  CHECK(toPeer == 700);
  CHECK(toClient == 192);
  CHECK(packetsToPeer == 7);
  CHECK(packetsToClient == 3);
  CHECK(field(recs.back(), "total_bytes_to_peer") == 700);
  CHECK(field(recs.back(), "total_bytes_to_client") == 192);
  CHECK(field(recs.back(), "peers") == 1);
  CHECK(recs.back().find("\"realm\":\"usage.test\"") != std::string::npos);
  CHECK(recs.back().find("\"transport\":\"udp\"") != std::string::npos);

  const auto bobs = recordsOf(file, "bob");
  REQUIRE(!bobs.empty());
  CHECK(bobs.back().find("\"end_reason\":\"shutdown\"") != std::string::npos);
  CHECK(field(bobs.back(), "total_bytes_to_peer") == 1000);

  const std::string errFile = live.file("report.err");
  const auto [code, json] = report("--from " + file + " --format json", errFile);
  CHECK(code == 0);
  CHECK(json.find("{\"key\":\"bob\",\"bytes\":1000,\"bytes_to_peer\":1000,\"bytes_to_client\":0,"
                  "\"packets_to_peer\":4,\"packets_to_client\":0,\"allocations\":1,") != std::string::npos);
  CHECK(json.find("{\"key\":\"alice\",\"bytes\":892,\"bytes_to_peer\":700,\"bytes_to_client\":192,"
                  "\"packets_to_peer\":7,\"packets_to_client\":3,\"allocations\":1,") != std::string::npos);

  CHECK(report("--from " + file + " --by city", errFile).first == 64);  // a bad option: usage error
  CHECK(report("--from " + file + "-missing", errFile).first == 2);
  // A damaged line is reported with its number; the report still sums the rest.
  const size_t good = lines(file).size();
  std::ofstream(file, std::ios::app) << "{\"schema\":1,\"type\":\"fin\n";
  const auto [bad, csv] = report("--from " + file + " --format csv --by realm", errFile);
  CHECK(bad == 1);
  CHECK(csv.find("usage.test,1892,1700,192,11,3,2,") != std::string::npos);
  std::ifstream errs(errFile);
  std::string err((std::istreambuf_iterator<char>(errs)), {});
  CHECK(err.find(file + ":" + std::to_string(good + 1) + ": not a usage record") != std::string::npos);
}

TEST_CASE("live usage: SIGUSR1 reopens the usage file after logrotate moved it") {
  Live live;
  ServerProcess& server = live.server;
  const std::string file = live.file();
  Session carol(live.port, "carol");
  carol.toPeer(1, 10);
  REQUIRE(awaitRecord(file, "carol", "\"type\":\"interim\""));
  std::filesystem::rename(file, file + ".1");
  REQUIRE(::kill(server.pid(), SIGUSR1) == 0);
  REQUIRE(carol.client.refresh(0)->code == 0);
  REQUIRE(awaitRecord(file, "carol", "\"end_reason\":\"deleted\""));
  CHECK(server.stop() == 0);
  uint64_t sum = 0;
  for (const auto& f : {file + ".1", file})
    for (const auto& r : recordsOf(f, "carol")) sum += field(r, "bytes_to_peer");
  CHECK(sum == 10);
}

TEST_CASE("live usage: the volume limit stops relaying within one tick, then 486") {
  Live live("quotas:\n  bytes_per_user: {limit: 1000, window: 1h}\n");
  ServerProcess& server = live.server;
  Session dave(live.port, "dave");
  dave.toPeer(6, 200);  // 1200 bytes: over the limit at the next tick
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  dave.client.sendIndication(dave.peer->local(), std::vector<uint8_t>(10, 1));
  CHECK_FALSE(dave.peer->receive(500));  // no longer relayed
  auto refresh = dave.client.refresh(600);
  REQUIRE(refresh);
  CHECK(refresh->code == 486);
  CHECK(server.stop() == 0);
  bool event = false;
  for (const auto& l : lines(live.file("events.jsonl")))
    event = event || (l.find("\"type\":\"volume_exceeded\"") != std::string::npos &&
                      l.find("\"user\":\"dave\"") != std::string::npos);
  CHECK(event);
  const auto recs = recordsOf(live.file(), "dave");
  REQUIRE(!recs.empty());
  CHECK(field(recs.back(), "total_bytes_to_peer") == 1200);
}
