// Slowloris against the real binary's credentials endpoint (issue 22,
// finding 1): one address opens many connections and trickles a header line
// into each; it gets only http.connections_per_ip of them, each is cut off at
// http.request_timeout although it is never idle, and a real client from
// another loopback address (127.0.0.2) trades its JWT for credentials all
// along. Bounded: 40 connections, under 10 s of trickling.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "relay/base/handle.h"
#include "tests/e2e/live_helpers.h"
#include "tests/support/jwt_signer.h"

using namespace tw;
using namespace std::chrono_literals;
using tw::testing::ServerProcess;
using tw::testing::TestKey;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr const char* kIss = "https://app.e2e.test";

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/tw-slowloris-e2e.XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(dir); }
  std::string dir;
};

/// A TCP connection from `from` (a 127.0.0.0/8 address) to `to`; -1 on failure.
UniqueFd connectFrom(const char* from, const SocketAddress& to) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_storage src{}, dst{};
  SocketAddress{*IpAddress::parse(from), 0}.toSockaddr(src);
  to.toSockaddr(dst);
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&src), sizeof(sockaddr_in)) != 0 ||
      ::connect(fd.get(), reinterpret_cast<sockaddr*>(&dst), sizeof(sockaddr_in)) != 0)
    return UniqueFd();
  return fd;
}

/// True when the server has ended the connection (EOF or reset); no waiting.
bool endedByServer(const UniqueFd& fd) {
  pollfd p{fd.get(), POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char buf[256];
  return ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT) <= 0;
}

/// POST /v1/credentials from `from` with `token`; the HTTP status, 0 for none.
int postFrom(const char* from, const SocketAddress& to, const std::string& token) {
  UniqueFd fd = connectFrom(from, to);
  if (!fd) return 0;
  const std::string req = "POST /v1/credentials HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                          "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  (void)::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL);
  std::string reply;
  char buf[1024];
  for (const auto until = SteadyClock::now() + 3s; SteadyClock::now() < until;) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, size_t(n));
  }
  return reply.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(reply.c_str() + 9) : 0;
}

}  // namespace

TEST_CASE("http: a slowloris from one address neither keeps its connections nor starves another client") {
  TempDir tmp;
  const TestKey key = TestKey::generate(policy::JwtAlg::EdDSA);
  std::ofstream(tmp.dir + "/jwks.json") << testing::jwksOf({key.jwk("k1")});
  const uint16_t port = testing::freeUdpPort();
  ServerProcess s(testing::udpListenerYaml("slow.test", port) +
                  "relay:\n  addresses: [127.0.0.1]\n  port_range: 43400-43499\n"
                  "auth:\n  secrets_file: secrets.yaml\n"
                  "http:\n  max_connections: 32\n  connections_per_ip: 8\n  request_timeout: 2s\n"
                  "credentials:\n  listen: 127.0.0.1:0\n  jwks_file: " +
                  tmp.dir + "/jwks.json\n  issuer: " + kIss + "\n  audience: turn\n");
  REQUIRE(s.ready());
  const auto at = testing::servedAddress(s.log(), "credentials");
  REQUIRE(at);
  // A user of its own per request: requests_per_user stays out of the way.
  int users = 0;
  auto token = [&] {
    return key.token("k1",
                     testing::claims(kIss, "turn", "u" + std::to_string(++users), std::time(nullptr) + 600));
  };
  REQUIRE(postFrom("127.0.0.2", *at, token()) == 200);

  // 40 connections from 127.0.0.1, each starting a request it never finishes.
  std::vector<UniqueFd> slow;
  for (int i = 0; i < 40; ++i) {
    UniqueFd fd = connectFrom("127.0.0.1", *at);
    REQUIRE(fd);
    const std::string start = "POST /v1/credentials HTTP/1.1\r\nHost: x\r\n";
    (void)::send(fd.get(), start.data(), start.size(), MSG_NOSIGNAL);
    slow.push_back(std::move(fd));
  }
  std::this_thread::sleep_for(300ms);
  size_t kept = 0;
  for (auto& fd : slow) kept += !endedByServer(fd);
  CHECK(kept == 8);  // connections_per_ip; the other 32 were closed at once

  // Trickle a header line into every open one every 500 ms (never idle) while the
  // real client from another address keeps being served.
  const auto start = SteadyClock::now();
  int served = 0, tries = 0;
  while (kept > 0 && SteadyClock::now() - start < 8s) {
    kept = 0;
    for (auto& fd : slow) {
      if (!fd || endedByServer(fd)) {
        fd.reset();
        continue;
      }
      ++kept;
      (void)::send(fd.get(), "X-Slow: y\r\n", 11, MSG_NOSIGNAL);
    }
    ++tries;
    served += postFrom("127.0.0.2", *at, token()) == 200;
    std::this_thread::sleep_for(500ms);
  }
  const auto held = SteadyClock::now() - start;
  CHECK(kept == 0);        // every slow connection was cut off...
  CHECK(held < 5s);        // ...at the 2 s request deadline, not the end of the test
  CHECK(served == tries);  // and the other client never waited
  // Once cut off, the address may connect again like anyone else.
  CHECK(postFrom("127.0.0.1", *at, token()) == 200);
  CHECK(s.stop() == 0);
  CHECK(testing::occurrences(s.log(), "(request deadline)") >= 1);  // logged
}
