// Fleet mode on the live binary (docs/fleet.md): a real redis-server on a
// free loopback port and three turnwarden nodes, driven through their TURN
// ports, admin APIs, metrics and CLI. Each failure case of the issue has its
// test: Redis down at start, Redis lost and back (relaying and auth go on,
// nodes resync and converge), a node SIGKILLed (its quota share lapses), the
// rotation lease holder killed while rotating (no secret lost, never zero),
// nodes that only ever talk through Redis, Redis AUTH, and the fleet-wide
// admin actions. Every node runs `workers: 2` (testing::udpListenerYaml),
// so fleet actions must reach both workers of each node.
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "relay/fleet/fleet_state.h"
#include "tests/e2e/counting_peer.h"
#include "tests/e2e/live_helpers.h"
#include "tests/support/http_client.h"
#include "tests/support/redis_process.h"

using namespace tw;
using namespace std::chrono_literals;
using tw::testing::RedisProcess;
using tw::testing::ServerProcess;
using tw::testing::StunClient;
using Steady = std::chrono::steady_clock;

namespace {

constexpr const char* kToken = "fleet-e2e-token-0123456789abcdef";
constexpr const char* kSecret = "fleetfleetfleetfleetfleetfleet00";
const std::string kAuth = std::string("Authorization: Bearer ") + kToken + "\r\n";

using testing::TokenFile;

struct Options {
  std::string heartbeat = "500ms";
  std::string auth = std::string("  secrets: [{id: k1, value: \"") + kSecret + "\"}]\n";
  std::string extra;
  std::string redis;  ///< more keys of fleet.redis, e.g. ", password_file: /x"
};

std::string nodeConfig(const std::string& id, uint16_t port, int index, const std::string& redis,
                       const std::string& token, const Options& o) {
  const int low = 40000 + index * 400 + int(port % 8) * 3000 % 12000;
  return testing::udpListenerYaml("fleet.test", port) +
         "relay:\n  addresses: [127.0.0.1]\n  port_range: " + std::to_string(low) + "-" +
         std::to_string(low + 199) + "\nauth:\n" + o.auth +
         "metrics:\n  listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\n  token_file: " + token +
         "\nbans:\n  failed_auth: {threshold: 3, window: 60s, ban_for: 10m}\n"
         "rate_limits:\n  unauthenticated_per_ip: {rate: 100, burst: 100}\n" +
         o.extra + "fleet:\n  redis: {address: '" + redis + "'" + o.redis + "}\n  node_id: " + id +
         "\n  heartbeat: " + o.heartbeat + "\n";
}

bool eventually(const std::function<bool()>& ok, std::chrono::milliseconds within) {
  const auto end = Steady::now() + within;
  while (Steady::now() < end) {
    if (ok()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return ok();
}

std::string field(const std::string& json, const std::string& key) {
  std::smatch m;
  const std::regex re("\"" + key + "\":\"([^\"]*)\"");
  return std::regex_search(json, m, re) ? m[1].str() : "";
}

struct Node {
  std::string id;
  uint16_t port;
  ServerProcess server;
  SocketAddress turn, admin, metrics;
  Node(std::string nodeId, uint16_t p, const std::string& yaml)
      : id(std::move(nodeId)), port(p), server(yaml) {
    REQUIRE(server.ready());
    turn = SocketAddress{IpAddress::v4(127, 0, 0, 1), port};
    admin = testing::servedAddress(server.log(), "admin").value();
    metrics = testing::servedAddress(server.log(), "metrics").value();
  }
  testing::HttpReply call(const std::string& method, const std::string& path) const {
    auto r = testing::httpRequest(admin, method, path, kAuth);
    REQUIRE(r);
    return *r;
  }
  std::string metric(const std::string& name) const {
    auto r = testing::httpGet(metrics, "/metrics");
    if (!r) return "";
    std::smatch m;
    const std::regex re("\n" + name + " ([0-9.e+-]+)");
    return std::regex_search(r->body, m, re) ? m[1].str() : "";
  }
  bool synced() const { return metric("turnwarden_fleet_synced") == "1"; }
  std::string nodes() const { return call("GET", "/admin/nodes").body; }
  int readyz() const {
    auto r = testing::httpGet(metrics, "/readyz");
    return r ? r->status : -1;
  }
  /// `turnwarden ARGS --config` this node's file; stderr joins stdout.
  testing::CommandRun cli(const std::string& args) const {
    return testing::runCommand(std::string(TW_BINARY) + " " + args + " --config " + server.dir() +
                               "/turnwarden.yaml 2>&1");
  }
  /// A REST client for `user` with a credential this node's admin API minted.
  StunClient minted(const SocketAddress& to, const std::string& user,
                    const char* local = "127.0.0.1:0") const {
    auto r = call("GET", "/api/v1/credentials?user=" + user);
    REQUIRE(r.status == 200);
    StunClient c(to, {}, *SocketAddress::parse(local));
    c.setCredentials(field(r.body, "username"), field(r.body, "password"));
    return c;
  }
  bool bans(const std::string& ip) const {
    return call("GET", "/admin/bans").body.find(ip) != std::string::npos;
  }
};

struct Fleet {
  RedisProcess redis;
  TokenFile token{kToken};
  Options options;
  std::vector<std::unique_ptr<Node>> nodes;
  explicit Fleet(int n, Options o = {}, bool waitSynced = true) : options(std::move(o)) {
    for (int i = 0; i < n; ++i) add(std::string(1, char('a' + i)));
    if (waitSynced)
      for (auto& node : nodes) REQUIRE(eventually([&] { return node->synced(); }, 10s));
  }
  Node& add(const std::string& id) {
    const uint16_t port = testing::freeUdpPort();
    nodes.push_back(std::make_unique<Node>(
        id, port, nodeConfig(id, port, int(nodes.size()), redis.address(), token.path, options)));
    return *nodes.back();
  }
  Node& operator[](size_t i) { return *nodes[i]; }
};

/// Bad passwords from `ip` to `node` until `node` bans the source
/// (threshold 3; at most 5 tries). Returns as soon as the ban is in force
/// there, and the source address (IP and port) that earned it: bans are per
/// source address, so a probe must come from the same port to be refused.
SocketAddress bruteForce(const Node& node, const char* ip) {
  const std::string any = std::string(ip) + ":0";
  StunClient attacker = testing::restClient(node.turn, kSecret, "mallory", any.c_str());
  attacker.setCredentials(std::to_string(std::time(nullptr) + 3600) + ":mallory", "guess");
  for (int i = 0; i < 5 && !node.bans(ip); ++i) (void)attacker.allocate();
  return attacker.local();
}

bool answers(const Node& node, const SocketAddress& source) {
  StunClient probe(node.turn, {}, source);
  return probe.request(stun::Method::Binding).has_value();
}

SocketAddress anyPort(const char* ip) { return *SocketAddress::parse(std::string(ip) + ":0"); }

/// (local port, remote port) of every established TCP connection of `pid`:
/// its socket inodes (/proc/PID/fd) matched in /proc/PID/net/tcp{,6}.
std::vector<std::pair<unsigned, unsigned>> establishedTcp(pid_t pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  std::set<std::string> inodes;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(proc + "/fd", ec)) {
    const std::string target = std::filesystem::read_symlink(e.path(), ec).string();
    if (target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
  }
  std::vector<std::pair<unsigned, unsigned>> out;
  for (const char* table : {"/net/tcp", "/net/tcp6"}) {
    std::ifstream in(proc + table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream row(line);
      std::string sl, local, remote, st, queues, timer, retr, uid, timeout, inode;
      row >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (st != "01" || !inodes.count(inode)) continue;  // 01: ESTABLISHED
      out.emplace_back(std::stoul(local.substr(local.rfind(':') + 1), nullptr, 16),
                       std::stoul(remote.substr(remote.rfind(':') + 1), nullptr, 16));
    }
  }
  return out;
}

/// A Redis that is down but reachable: listens on 127.0.0.1:`port` and
/// closes every connection at once, noting when each came. Shows how often
/// a node tries to reconnect.
class SlammingListener {
 public:
  explicit SlammingListener(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    listening_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 64) == 0;
    thread_ = std::thread([this] { loop(); });
  }
  ~SlammingListener() { close(); }
  bool listening() const { return listening_; }
  void close() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::vector<Steady::time_point> accepted() {
    std::lock_guard lock(mu_);
    return at_;
  }

 private:
  void loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) != 1) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ::close(c);
      std::lock_guard lock(mu_);
      at_.push_back(Steady::now());
    }
  }
  int fd_;
  bool listening_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<Steady::time_point> at_;
};

/// Connection times grouped into attempts (a node opens its command and
/// subscription connections together): the start of each attempt.
std::vector<Steady::time_point> attempts(const std::vector<Steady::time_point>& accepted) {
  std::vector<Steady::time_point> out;
  for (auto t : accepted)
    if (out.empty() || t - out.back() > 100ms) out.push_back(t);
  return out;
}

}  // namespace

TEST_CASE(
    "fleet: a rotation on A verifies on B and C, a bad Redis keyring is refused, the CLI acts on Redis") {
  Fleet f(3);
  auto rotated = f[0].call("POST", "/admin/rotate");
  REQUIRE(rotated.status == 200);
  const std::string id = field(rotated.body, "minting_id");
  CHECK(id != "k1");
  CHECK_THAT(rotated.body, Catch::Contains("\"scope\":\"fleet\""));
  for (size_t i = 1; i < 3; ++i) {
    INFO("node " << f[i].id);
    REQUIRE(eventually([&] { return f[i].metric("turnwarden_fleet_keyring_version") == "2"; }, 3s));
    CHECK(f[0].minted(f[i].turn, "alice").allocate()->code == 0);                 // minted with `id` on A
    CHECK(testing::restClient(f[i].turn, kSecret, "old").allocate()->code == 0);  // k1 in its grace
  }
  // An entry that fails the keyring file's validation (a 5-byte secret),
  // written by an operator with redis-cli, is refused everywhere.
  const std::string cli = "redis-cli -h 127.0.0.1 -p " + std::to_string(f.redis.port()) + " ";
  auto hset = testing::runCommand(cli +
                                  "HSET turnwarden:fleet.test:keyring yaml "
                                  "'secrets: [{id: x, value: short}]' version 99");
  REQUIRE(hset.status == 0);
  REQUIRE(testing::runCommand(cli + "PUBLISH turnwarden:fleet.test:events 'keyring evil 99'").status == 0);
  for (size_t i = 0; i < 3; ++i) {
    INFO("node " << f[i].id);
    CHECK(eventually(
        [&] { return f[i].server.log().find("refused the keyring in Redis") != std::string::npos; }, 3s));
    CHECK_THAT(f[i].server.log(), Catch::Contains("shorter than"));  // the keyring file's own words
  }
  CHECK(f[0].minted(f[2].turn, "bob").allocate()->code == 0);  // still the good keyring
  CHECK(f[2].metric("turnwarden_fleet_keyring_version") == "2");
  CHECK(f[2].server.log().find("value: short") == std::string::npos);  // a refused secret is never logged
  // The CLI: rotate and credential act on the fleet keyring (repair it first).
  REQUIRE(f.redis.command({"DEL", "turnwarden:fleet.test:keyring"}));
  // A node re-seeds the emptied keyring within a heartbeat; the CLI rotates what is there.
  auto rot = f[1].cli("rotate");
  CHECK(rot.status == 0);
  CHECK_THAT(rot.out, Catch::Contains("rotated the fleet keyring of realm fleet.test (version "));
  auto cred = f[1].cli("credential --user carol");
  REQUIRE(cred.status == 0);
  for (size_t i = 0; i < 3; ++i) {
    StunClient c(f[i].turn, {});
    c.setCredentials(field(cred.out, "username"), field(cred.out, "password"));
    CHECK(eventually([&] { return c.allocate()->code == 0; }, 3s));
  }
  auto status = f[1].cli("fleet status");
  INFO(status.out);
  CHECK(status.status == 0);
  CHECK_THAT(status.out, Catch::StartsWith("realm fleet.test, Redis " + f.redis.address() + " db 0\n"));
  CHECK(std::regex_search(status.out,
                          std::regex("keyring version [0-9]+, minting [A-Za-z0-9._-]+, [0-9]+ secret")));
  CHECK(std::regex_search(status.out, std::regex("rotation lease: [abc]\n")));
  for (const char* id : {"a", "b", "c"})
    CHECK(std::regex_search(
        status.out, std::regex(std::string("\n") + id + " +yes +no +[0-9]+ +[0-9]+  udp 127\\.0\\.0\\.1:")));
  CHECK_THAT(status.out, Catch::EndsWith("3 live node(s)\n"));

  // Nodes never talk to each other, only to Redis: a split between them
  // (they cannot see each other, all see Redis) changes nothing. Every
  // established TCP connection of a node is one of its two Redis links or
  // a client of its own admin/metrics port.
  for (size_t i = 0; i < 3; ++i) {
    INFO("node " << f[i].id);
    int toRedis = 0;
    for (auto [local, remote] : establishedTcp(f[i].server.pid())) {
      if (remote == f.redis.port())
        ++toRedis;
      else
        CHECK((local == f[i].admin.port || local == f[i].metrics.port));
    }
    CHECK(toRedis == 2);  // the command connection and the subscription
  }
}

TEST_CASE("fleet: brute force on A gets the source banned on B within one second") {
  Fleet f(3);
  const SocketAddress attacker = bruteForce(f[0], "127.0.0.5");
  const auto t0 = Steady::now();  // A has just banned it
  REQUIRE(eventually([&] { return f[1].bans("127.0.0.5"); }, 3s));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - t0);
  WARN("ban reached B " << took.count() << " ms after A had it in force");
  CHECK(f[0].bans("127.0.0.5"));
  CHECK(took < 1s);
  CHECK(eventually([&] { return f[2].bans("127.0.0.5"); }, 1s));
  CHECK_FALSE(answers(f[1], attacker));
  CHECK(answers(f[1], anyPort("127.0.0.1")));
  CHECK(answers(f[1], anyPort("127.0.0.5")));  // its NAT neighbours on other ports
  // Lifted fleet-wide from C.
  CHECK(f[2].call("DELETE", "/admin/bans/127.0.0.5?scope=fleet").status == 202);
  for (size_t i = 0; i < 3; ++i) CHECK(eventually([&] { return !f[i].bans("127.0.0.5"); }, 2s));
  CHECK(answers(f[1], attacker));
}

TEST_CASE("fleet: per_user 2 across the fleet, a killed node's share lapses within two heartbeats") {
  Options o;
  o.heartbeat = "1s";
  o.extra = "quotas: {per_user: 2}\n";
  Fleet f(2, o);
  // per_user counts one credential (the whole `expiry:user`) from one client
  // IP: every client here uses the same USERNAME from 127.0.0.1.
  const std::string alice = testing::restName("alice");
  StunClient a1 = testing::restClientNamed(f[0].turn, kSecret, alice);
  StunClient a2 = testing::restClientNamed(f[0].turn, kSecret, alice);
  REQUIRE(a1.allocate()->code == 0);
  REQUIRE(a2.allocate()->code == 0);
  REQUIRE(eventually(
      [&] { return f[1].call("GET", "/admin/nodes").body.find("\"allocations\":2") != std::string::npos; },
      3s));
  CHECK(testing::restClientNamed(f[1].turn, kSecret, alice).allocate()->code == 486);
  CHECK(testing::restClient(f[1].turn, kSecret, "bob").allocate()->code == 0);  // other users unaffected
  ::kill(f[0].server.pid(), SIGKILL);
  const auto t0 = Steady::now();
  StunClient b = testing::restClientNamed(f[1].turn, kSecret, alice);
  REQUIRE(eventually([&] { return b.allocate()->code == 0; }, 5s));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - t0);
  WARN("A's quota share lapsed after " << took.count() << " ms (heartbeat 1000 ms)");
  CHECK(took <= 2s + 500ms);  // two heartbeats, plus slack for a loaded test machine
}

TEST_CASE("fleet: admin 'end user's sessions' on C ends them on A and B") {
  Fleet f(3);
  // Four clients (four source ports) per node: the kernel spreads them over
  // both workers, and the fleet action must reach each.
  std::vector<StunClient> alice;
  for (size_t node = 0; node < 2; ++node)
    for (int i = 0; i < 4; ++i) alice.push_back(testing::restClient(f[node].turn, kSecret, "alice"));
  for (auto& c : alice) REQUIRE(c.allocate()->code == 0);
  StunClient bob = testing::restClient(f[1].turn, kSecret, "bob");
  REQUIRE(bob.allocate()->code == 0);
  auto r = f[2].call("DELETE", "/admin/sessions?user=alice&scope=fleet");
  CHECK(r.status == 202);
  CHECK_THAT(r.body, Catch::Contains("\"nodes_listening\":3"));
  for (size_t i = 0; i < 2; ++i)
    CHECK(eventually(
        [&] { return f[i].call("GET", "/admin/sessions").body.find("\"alice\"") == std::string::npos; }, 2s));
  for (auto& c : alice) CHECK(c.refresh(600)->code == 437);
  CHECK(bob.refresh(600)->code == 0);
  // A hostile user name travels as one argv element: nothing in it is read
  // as a command or a format (coturn GHSA-4g7c-p5wg-j4hp).
  auto hostile = f[2].call("DELETE", "/admin/sessions?user=%25s%25n%0D%0AFLUSHALL%20*&scope=fleet");
  CHECK(hostile.status == 202);
  for (size_t i = 0; i < 3; ++i)
    CHECK(eventually(
        [&] {
          return f[i].server.log().find(R"(ended 0 allocation(s) of user "\x25s\x25n\x0d\x0aFLUSHALL *")") !=
                 std::string::npos;
        },
        2s));
  auto keyring = f.redis.command({"EXISTS", "turnwarden:fleet.test:keyring"});
  REQUIRE(keyring);
  CHECK(*keyring == std::vector<std::string>{"1"});
  CHECK(f[0].call("GET", "/admin/nodes").status == 200);
  for (const char* id : {"\"a\"", "\"b\"", "\"c\""})
    CHECK(
        eventually([&] { return f[0].call("GET", "/admin/nodes").body.find(id) != std::string::npos; }, 3s));
  CHECK(f[0].call("POST", "/admin/drain?scope=everywhere").status == 400);
}

TEST_CASE("fleet: reload and drain with ?scope=fleet on one node run on every node") {
  Fleet f(2);
  // B's file now blocks mallory; A's does not. A fleet-wide reload sent to A
  // makes each node re-read its own file.
  Options blocked = f.options;
  blocked.auth += "  blocked_users: [mallory]\n";
  std::ofstream(f[1].server.dir() + "/turnwarden.yaml")
      << nodeConfig("b", f[1].port, 1, f.redis.address(), f.token.path, blocked);
  auto r = f[0].call("POST", "/admin/reload?scope=fleet");
  CHECK(r.status == 202);
  CHECK_THAT(r.body, Catch::Contains("\"published\":\"reload\""));
  CHECK_THAT(r.body, Catch::Contains("\"nodes_listening\":2"));
  for (size_t i = 0; i < 2; ++i) {
    INFO("node " << f[i].id);
    CHECK(eventually(
        [&] {
          return f[i].server.log().find("fleet: reload (from a)") != std::string::npos &&
                 f[i].server.log().find("reload ok") != std::string::npos;
        },
        3s));
  }
  for (int i = 0; i < 4; ++i) {  // both of B's workers took the new snapshot
    CHECK(testing::restClient(f[1].turn, kSecret, "mallory").allocate()->code == 403);
    CHECK(testing::restClient(f[0].turn, kSecret, "mallory").allocate()->code == 0);
  }

  // Drain sent to B: every node refuses new allocations (508), says so on
  // /readyz and in the registry; live allocations run on.
  StunClient live = testing::restClient(f[0].turn, kSecret, "carol");
  REQUIRE(live.allocate()->code == 0);
  CHECK(f[1].call("POST", "/admin/drain?scope=fleet").status == 202);
  for (size_t i = 0; i < 2; ++i) {
    INFO("node " << f[i].id);
    CHECK(eventually([&] { return f[i].readyz() == 503; }, 3s));
    for (int k = 0; k < 4; ++k)
      CHECK(testing::restClient(f[i].turn, kSecret, "dave").allocate()->code == 508);
  }
  CHECK(eventually(
      [&] {
        const std::string n = f[0].nodes();
        return n.find("\"draining\":false") == std::string::npos &&
               n.find("\"draining\":true") != std::string::npos;
      },
      3s));
  CHECK(live.refresh(600)->code == 0);
}

TEST_CASE(
    "fleet: Redis lost: relaying and auth go on, bans stay local, Redis back: nodes resync and converge") {
  Options o;
  o.extra = "peers:\n  allowed: [{range: 127.0.0.1/32}]\n";
  Fleet f(2, o);
  REQUIRE(f[0].call("POST", "/admin/rotate").status == 200);
  REQUIRE(eventually([&] { return f[1].metric("turnwarden_fleet_keyring_version") == "2"; }, 3s));
  testing::CountingPeer peer;
  StunClient c = f[0].minted(f[0].turn, "alice");
  REQUIRE(c.allocate()->code == 0);
  REQUIRE(c.createPermission(peer.addr)->code == 0);
  std::vector<uint8_t> data(40, 7);
  c.sendIndication(peer.addr, data);
  CHECK(peer.count() == 1);
  testing::CountingPeer peerB;
  StunClient onB = f[0].minted(f[1].turn, "bea");
  REQUIRE(onB.allocate()->code == 0);
  REQUIRE(onB.createPermission(peerB.addr)->code == 0);
  onB.sendIndication(peerB.addr, data);
  CHECK(peerB.count() == 1);

  f.redis.kill();
  for (size_t i = 0; i < 2; ++i) {
    REQUIRE(eventually([&] { return f[i].server.log().find("fleet: lost Redis") != std::string::npos; }, 5s));
    CHECK(f[i].metric("turnwarden_fleet_keyring_stale") == "1");
    CHECK(f[i].metric("turnwarden_fleet_redis_up") == "0");
    CHECK_THAT(f[i].nodes(),
               Catch::Contains("\"redis_up\":false,\"fleet_ready\":false,\"keyring_version\":2"));
  }
  c.sendIndication(peer.addr, data);
  CHECK(peer.count() == 1);  // relaying goes on, on every node
  onB.sendIndication(peerB.addr, data);
  CHECK(peerB.count() == 1);
  CHECK(c.refresh(600)->code == 0);
  CHECK(onB.refresh(600)->code == 0);
  CHECK(f[0].minted(f[1].turn, "dave").allocate()->code == 0);  // auth with the last keyring
  (void)bruteForce(f[0], "127.0.0.6");
  REQUIRE(eventually([&] { return f[0].bans("127.0.0.6"); }, 2s));
  CHECK_FALSE(f[1].bans("127.0.0.6"));  // local until Redis returns

  REQUIRE(f.redis.start());  // empty: no persistence
  for (size_t i = 0; i < 2; ++i) REQUIRE(eventually([&] { return f[i].synced(); }, 12s));
  // The ban A made while Redis was away is published on reconnect: it is
  // in Redis now, and B imposes it.
  CHECK(eventually(
      [&] {
        auto keys = f.redis.command({"KEYS", "turnwarden:fleet.test:ban:127.0.0.6:*"});
        return keys && keys->size() == 1;
      },
      3s));
  CHECK(eventually([&] { return f[1].bans("127.0.0.6"); }, 3s));  // converged
  auto version = f.redis.command({"HGET", "turnwarden:fleet.test:keyring", "version"});
  REQUIRE(version);
  REQUIRE(version->size() == 1);
  auto yaml = f.redis.command({"HGET", "turnwarden:fleet.test:keyring", "yaml"});
  REQUIRE(yaml);
  const std::string minting = field(f[0].call("POST", "/admin/rotate").body, "minting_id");
  CHECK(eventually(
      [&] {
        return f[1].call("GET", "/admin/nodes").body.find("\"b\"") != std::string::npos &&
               f[1].call("GET", "/admin/nodes").body.find("\"a\"") != std::string::npos;
      },
      3s));
  CHECK(eventually([&] { return f[0].minted(f[1].turn, "erin").allocate()->code == 0; }, 3s));
  CHECK(f[0].metric("turnwarden_fleet_reconnects_total") != "0");
  c.sendIndication(peer.addr, data);
  CHECK(peer.count() == 1);
}

TEST_CASE(
    "fleet: Redis down at start: the node runs on its local keyring, not ready for the fleet, retries with "
    "backoff, then syncs") {
  Options o;
  RedisProcess redis;
  redis.kill();  // its port stays reserved for the restart below
  TokenFile token{kToken};
  // Redis "down" as a port that drops every connection: each retry shows.
  SlammingListener down(redis.port());
  REQUIRE(down.listening());
  const uint16_t port = testing::freeUdpPort();
  Node a("a", port, nodeConfig("a", port, 0, redis.address(), token.path, o));
  const auto t0 = Steady::now();  // the first attempt was made during start-up
  CHECK(a.server.log().find("not ready for the fleet") != std::string::npos);
  CHECK(a.metric("turnwarden_fleet_synced") == "0");
  CHECK_THAT(a.nodes(), Catch::StartsWith("{\"self\":{\"id\":\"a\",\"redis_up\":false,\"fleet_ready\":false,"
                                          "\"keyring_version\":0},\"nodes\":[]}"));
  // Relaying does not depend on the fleet: /readyz stays 200 (a load
  // balancer must not pull every node when Redis dies).
  CHECK(a.readyz() == 200);
  CHECK(testing::restClient(a.turn, kSecret, "alice").allocate()->code == 0);
  std::this_thread::sleep_until(t0 + 3500ms);
  down.close();
  // Backoff: 250 ms doubling (+ up to 25 % jitter): attempts at about 0,
  // 0.25, 0.75, 1.75 and 3.75 s, never a tight loop, and the gaps grow.
  const auto tries = attempts(down.accepted());
  INFO(tries.size() << " connection attempts in 3.5 s");
  REQUIRE(tries.size() >= 4);
  CHECK(tries.size() <= 6);
  const auto firstGap = tries[1] - tries[0], lastGap = tries.back() - tries[tries.size() - 2];
  CHECK(lastGap >= 900ms);
  CHECK(lastGap > firstGap);
  CHECK(std::regex_search(
      a.server.log(),
      std::regex("fleet: Redis at 127\\.0\\.0\\.1:[0-9]+ unavailable \\(.*\\); retrying with backoff")));
  auto status = a.cli("fleet status");  // the CLI says so too
  CHECK(status.status == 2);
  CHECK_THAT(status.out, Catch::Contains("cannot reach Redis at " + redis.address()));
  REQUIRE(redis.start());
  REQUIRE(eventually([&] { return a.synced(); }, 12s));
  CHECK(a.server.log().find("fleet: ready") != std::string::npos);
  CHECK_THAT(a.nodes(), Catch::Contains("\"redis_up\":true,\"fleet_ready\":true,\"keyring_version\":1}"));
  auto v = redis.command({"HGET", "turnwarden:fleet.test:keyring", "version"});
  REQUIRE(v);
  CHECK(*v == std::vector<std::string>{"1"});  // seeded from the local keyring
}

TEST_CASE("fleet: the rotation lease holder killed mid-rotation loses no secret and never leaves zero") {
  Options o;
  o.auth = "  secrets_file: keyring.yaml\n  max_ttl: 60s\n  rotation: {interval: 1s, grace: 60s}\n";
  Fleet f(3, o);
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, lost{0}, versions{0};
  std::thread watcher([&] {
    std::optional<fleet::FleetKeyring> last;
    while (!stop) {
      auto flat = f.redis.command({"HGETALL", "turnwarden:fleet.test:keyring"});
      auto k = flat ? fleet::parseFleetKeyring(*flat, std::time(nullptr))
                    : decltype(fleet::parseFleetKeyring({}, 0))(std::optional<fleet::FleetKeyring>{});
      if (!k || !*k)
        ++bad;  // never missing, invalid or without a usable secret
      else if (!last || (*k)->version != last->version) {
        if (last)
          for (const auto& s : last->secrets) {
            bool kept = false;
            for (const auto& n : (*k)->secrets) kept = kept || n.id == s.id;
            if (!kept && policy::isUsable(s, std::time(nullptr))) ++lost;
          }
        last = **k;
        ++versions;
      }
      std::this_thread::sleep_for(5ms);
    }
  });
  REQUIRE(eventually([&] { return versions >= 3; }, 10s));
  const std::string early = f[0].call("GET", "/api/v1/credentials?user=early").body;
  auto holder = f.redis.command({"GET", "turnwarden:fleet.test:rotation-lease"});
  REQUIRE(holder);
  REQUIRE(holder->size() == 1);
  const size_t victim = size_t(holder->front()[0] - 'a');
  REQUIRE(victim < 3);
  ::kill(f[victim].server.pid(), SIGKILL);
  const int atKill = versions;
  const size_t survivor = (victim + 1) % 3;
  REQUIRE(eventually(
      [&] {
        auto h = f.redis.command({"GET", "turnwarden:fleet.test:rotation-lease"});
        return h && h->size() == 1 && h->front() != f[victim].id;
      },
      5s));
  REQUIRE(eventually([&] { return versions >= atKill + 2; }, 8s));  // rotations go on
  stop = true;
  watcher.join();
  CHECK(bad == 0);
  CHECK(lost == 0);
  CHECK(f[survivor].minted(f[survivor].turn, "late").allocate()->code == 0);
  StunClient before(f[survivor].turn, {});
  before.setCredentials(field(early, "username"), field(early, "password"));
  CHECK(before.allocate()->code == 0);  // minted before the kill, verified after
  // The local 0600 copy follows the fleet keyring...
  const std::string copy = f[survivor].server.dir() + "/keyring.yaml";
  struct stat st {};
  REQUIRE(::stat(copy.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // ...and is what a node starts on while Redis is down: a credential minted
  // from the fleet keyring verifies on a node started from that copy alone.
  const std::string lastMinted = f[survivor].call("GET", "/api/v1/credentials?user=restart").body;
  f.redis.kill();  // no rotation after this
  REQUIRE(eventually([&] { return f[survivor].metric("turnwarden_fleet_redis_up") == "0"; }, 5s));
  const std::string kept = f.token.dir + "/keyring-copy.yaml";
  std::filesystem::copy_file(copy, kept);
  ::chmod(kept.c_str(), 0600);
  Options fromCopy = o;
  fromCopy.auth = "  secrets_file: " + kept + "\n  max_ttl: 60s\n  rotation: {interval: 1s, grace: 60s}\n";
  const uint16_t port = testing::freeUdpPort();
  Node d("d", port, nodeConfig("d", port, 3, f.redis.address(), f.token.path, fromCopy));
  CHECK_FALSE(d.synced());
  StunClient restarted(d.turn, {});
  restarted.setCredentials(field(lastMinted, "username"), field(lastMinted, "password"));
  CHECK(restarted.allocate()->code == 0);
}

TEST_CASE(
    "fleet: Redis AUTH from a 0600 password file, a readable file refused, a wrong password keeps the node "
    "off the fleet") {
  const std::string password = "fleet-redis-password-0123456789";
  RedisProcess redis(password);
  TokenFile token{kToken};
  auto writePrivate = [&](const std::string& name, const std::string& text) {
    const std::string path = token.dir + "/" + name;
    std::ofstream(path) << text << "\n";
    ::chmod(path.c_str(), 0600);
    return path;
  };
  Options o;
  o.redis = ", password_file: " + writePrivate("redis.pw", password);
  const uint16_t port = testing::freeUdpPort();
  Node a("a", port, nodeConfig("a", port, 0, redis.address(), token.path, o));
  REQUIRE(eventually([&] { return a.synced(); }, 10s));
  auto seen = redis.command({"EXISTS", "turnwarden:fleet.test:node:a"});
  REQUIRE(seen);
  CHECK(*seen == std::vector<std::string>{"1"});
  CHECK(a.server.log().find(password) == std::string::npos);  // never logged
  CHECK(a.cli("fleet status").status == 0);

  // A wrong password: the node runs alone and says why.
  Options wrong;
  wrong.redis = ", password_file: " + writePrivate("wrong.pw", "not-the-password");
  const uint16_t port2 = testing::freeUdpPort();
  Node b("b", port2, nodeConfig("b", port2, 1, redis.address(), token.path, wrong));
  CHECK(eventually([&] { return b.server.log().find("AUTH refused") != std::string::npos; }, 5s));
  CHECK_FALSE(b.synced());
  CHECK_THAT(b.nodes(), Catch::Contains("\"redis_up\":false,\"fleet_ready\":false"));
  CHECK(testing::restClient(b.turn, kSecret, "alice").allocate()->code == 0);
  CHECK(b.cli("fleet status").status == 2);

  // A password file others can read: check-config and start-up refuse it.
  const std::string loose = writePrivate("loose.pw", password);
  ::chmod(loose.c_str(), 0640);
  Options readable;
  readable.redis = ", password_file: " + loose;
  const uint16_t port3 = testing::freeUdpPort();
  const std::string yaml = nodeConfig("c", port3, 2, redis.address(), token.path, readable);
  const std::string file = token.dir + "/loose.yaml";
  std::ofstream(file) << yaml;
  auto check = testing::runCommand(std::string(TW_BINARY) + " check-config " + file + " 2>&1");
  INFO(check.out);
  CHECK(check.status == 2);
  CHECK(std::regex_search(
      check.out, std::regex("loose\\.yaml:[0-9]+:[0-9]+: fleet\\.redis\\.password_file: '.*/loose\\.pw': "
                            "mode 0640 gives group/other access; it must be private \\(chmod 600\\)")));
  ServerProcess c(yaml);
  CHECK_FALSE(c.ready());
  CHECK_THAT(c.log(), Catch::Contains("mode 0640 gives group/other access"));
}

TEST_CASE("fleet: usage records reach the realm's Redis Stream with exactly the bytes relayed") {
  Options o;
  o.extra =
      "peers:\n  allowed: [127.0.0.1/32]\nusage:\n  file: usage.jsonl\n  interval: 1s\n  redis_maxlen: "
      "1000\n";
  Fleet fleet(1, o);
  Node& a = fleet[0];
  StunClient c = a.minted(a.turn, "streamer");
  auto alloc = c.allocate();
  REQUIRE(alloc);
  REQUIRE(alloc->code == 0);
  StunClient peer(*alloc->msg().xorRelayedAddress());
  REQUIRE(c.createPermission(peer.local())->code == 0);
  for (int i = 0; i < 3; ++i) {
    c.sendIndication(peer.local(), std::vector<uint8_t>(300, uint8_t(i)));
    REQUIRE(peer.receive(2000));
  }
  REQUIRE(c.refresh(0)->code == 0);
  // Every record of the allocation, in order, from the stream a billing job reads.
  std::vector<std::string> records;
  REQUIRE(eventually(
      [&] {
        records.clear();
        auto all = fleet.redis.command({"XRANGE", "turnwarden:fleet.test:usage", "-", "+"});
        if (all)
          for (const auto& s : *all)
            if (s.rfind("{\"schema\":1,", 0) == 0 && s.find("\"user\":\"streamer\"") != std::string::npos)
              records.push_back(s);
        return !records.empty() && records.back().find("\"type\":\"final\"") != std::string::npos;
      },
      10s));
  uint64_t sum = 0;
  for (const auto& r : records) {
    const std::string key = "\"bytes_to_peer\":";
    sum += std::stoull(r.substr(r.find(key) + key.size()));
  }
  CHECK(sum == 900);
  CHECK(records.back().find("\"total_bytes_to_peer\":900,") != std::string::npos);
  CHECK(records.back().find("\"node\":\"a\"") != std::string::npos);
  // `turnwarden usage --fleet` reads the same stream.
  const auto report = a.cli("usage --fleet --format csv");
  CHECK(report.status == 0);
  CHECK(report.out.find("\nstreamer,900,900,0,3,0,1,") != std::string::npos);
}

TEST_CASE("fleet: quotas.bytes_per_user counts across two nodes sharing a Redis") {
  Options o;
  o.extra = "peers:\n  allowed: [127.0.0.1/32]\nquotas:\n  bytes_per_user: {limit: 1000, window: 1h}\n";
  Fleet fleet(2, o);
  // 600 bytes through A and 600 through B: under the limit on each node, over it together.
  StunClient onA = fleet[0].minted(fleet[0].turn, "heavy");
  StunClient onB = fleet[1].minted(fleet[1].turn, "heavy");
  for (StunClient* c : {&onA, &onB}) {
    auto alloc = c->allocate();
    REQUIRE(alloc);
    REQUIRE(alloc->code == 0);
    StunClient peer(*alloc->msg().xorRelayedAddress());
    REQUIRE(c->createPermission(peer.local())->code == 0);
    for (int i = 0; i < 3; ++i) {
      c->sendIndication(peer.local(), std::vector<uint8_t>(200, uint8_t(i)));
      REQUIRE(peer.receive(2000));
    }
  }
  // Each node charges at its 1 s tick and learns the fleet total at its next fleet tick.
  for (StunClient* c : {&onA, &onB}) {
    CHECK(eventually(
        [&] {
          std::this_thread::sleep_for(200ms);
          auto r = c->refresh(600);
          return r && r->code == 486;
        },
        6s));
  }
  StunClient light = fleet[0].minted(fleet[0].turn, "light");  // another user is not affected
  CHECK(light.allocate()->code == 0);
}
