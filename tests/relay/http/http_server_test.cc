// HttpServer over real loopback sockets: the per-address connection limit,
// the whole-request deadline that catches a client trickling header lines
// (MHD's own timeout only catches idle ones), and HTTPS that refuses to start
// with an empty, unparsable or mismatched certificate instead of serving
// plain HTTP (issue 22, findings 1 and 3).
#include "relay/http/http_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "relay/base/handle.h"
#include "tests/support/http_client.h"

namespace tw::http {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

HttpResponse ok(const HttpRequest&) { return HttpResponse{200, "text/plain", "ok\n"}; }

/// A blocking TCP connection from `from` (any 127.0.0.0/8 address) to `to`.
UniqueFd connectFrom(const char* from, const SocketAddress& to) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd);
  sockaddr_storage src{};
  SocketAddress{*IpAddress::parse(from), 0}.toSockaddr(src);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&src), sizeof(sockaddr_in)) == 0);
  sockaddr_storage dst{};
  to.toSockaddr(dst);
  REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&dst), sizeof(sockaddr_in)) == 0);
  return fd;
}

void sendText(const UniqueFd& fd, const std::string& text) {
  (void)::send(fd.get(), text.data(), text.size(), MSG_NOSIGNAL);
}

/// True when the server ends the connection (EOF or reset) within `wait`.
bool closedWithin(const UniqueFd& fd, std::chrono::milliseconds wait) {
  const auto until = SteadyClock::now() + wait;
  char buf[512];
  while (SteadyClock::now() < until) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) return true;  // 0: EOF; -1 after POLLIN: reset
  }
  return false;
}

/// A full GET from `from`; the status, or 0 when the server did not answer.
int getFrom(const char* from, const SocketAddress& to) {
  UniqueFd fd = connectFrom(from, to);
  sendText(fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string reply;
  char buf[512];
  const auto until = SteadyClock::now() + 3s;
  while (SteadyClock::now() < until) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, size_t(n));
  }
  if (reply.rfind("HTTP/1.1 ", 0) != 0) return 0;
  return std::atoi(reply.c_str() + 9);
}

std::unique_ptr<HttpServer> serve(const HttpOptions& o) {
  auto s = HttpServer::start(*SocketAddress::parse("127.0.0.1:0"), ok, o);
  REQUIRE(s.ok());
  return std::move(s.value());
}

/// A throw-away self-signed certificate and key (openssl CLI), and a second
/// key that belongs to neither.
struct Pems {
  Pems() {
    char tmpl[] = "/tmp/tw-http-pem.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=localhost -keyout " +
        dir + "/key.pem -out " + dir +
        "/cert.pem >/dev/null 2>&1"
        " && openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out " +
        dir + "/other.pem >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  ~Pems() { std::filesystem::remove_all(dir); }
  std::string read(const std::string& name) const {
    std::ifstream in(dir + "/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string dir;
};

std::string startError(const HttpOptions& o) {
  auto s = HttpServer::start(*SocketAddress::parse("127.0.0.1:0"), ok, o);
  REQUIRE_FALSE(s.ok());
  return s.error();
}

}  // namespace

TEST_CASE("http server: a client trickling header lines is cut off at the request deadline") {
  HttpOptions o;
  o.requestDeadline = 600ms;
  o.timeoutSeconds = 10;  // the idle timeout alone would never fire: a line comes every 100 ms
  std::vector<std::string> warnings;
  std::mutex mu;
  o.warn = [&](const std::string& w) {
    std::lock_guard lock(mu);
    warnings.push_back(w);
  };
  auto server = serve(o);
  UniqueFd slow = connectFrom("127.0.0.1", server->address());
  sendText(slow, "GET / HTTP/1.1\r\nHost: x\r\n");
  const auto start = SteadyClock::now();
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {  // at most 4 s of trickling
    sendText(slow, "X-Slow-" + std::to_string(i) + ": y\r\n");
    closed = closedWithin(slow, 100ms);
  }
  const auto held = SteadyClock::now() - start;
  CHECK(closed);
  CHECK(held >= 500ms);
  CHECK(held < 2500ms);
  // The sweeper counts and reports just after the shutdown the client saw.
  auto reported = [&] {
    std::lock_guard lock(mu);
    return !warnings.empty() && server->deadlineClosures() == 1;
  };
  for (int i = 0; i < 100 && !reported(); ++i) std::this_thread::sleep_for(10ms);
  CHECK(server->deadlineClosures() == 1);
  std::lock_guard lock(mu);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("request deadline") != std::string::npos);
}

TEST_CASE(
    "http server: requests that finish in time, one after another on a kept-alive connection, are served") {
  HttpOptions o;
  o.requestDeadline = 800ms;
  auto server = serve(o);
  UniqueFd fd = connectFrom("127.0.0.1", server->address());
  for (int i = 0; i < 4; ++i) {  // 4 x 400 ms: longer than one deadline, each request well within it
    std::this_thread::sleep_for(300ms);
    sendText(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    char buf[256];
    pollfd p{fd.get(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 2000) == 1);
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    REQUIRE(n > 0);
    CHECK(std::string(buf, size_t(n)).rfind("HTTP/1.1 200", 0) == 0);
  }
  CHECK(server->deadlineClosures() == 0);
}

TEST_CASE("http server: one address cannot take every connection, and another is still served") {
  HttpOptions o;
  o.connectionLimit = 8;
  o.connectionsPerIp = 3;
  auto server = serve(o);
  std::vector<UniqueFd> held;
  for (int i = 0; i < 3; ++i) held.push_back(connectFrom("127.0.0.1", server->address()));
  for (auto& fd : held) sendText(fd, "GET / HTTP/1.1\r\n");  // and never finish
  std::this_thread::sleep_for(100ms);
  for (auto& fd : held) CHECK_FALSE(closedWithin(fd, 10ms));
  for (int i = 0; i < 5; ++i) {  // over the per-address limit: closed at once
    UniqueFd extra = connectFrom("127.0.0.1", server->address());
    CHECK(closedWithin(extra, 1000ms));
  }
  CHECK(getFrom("127.0.0.2", server->address()) == 200);
  CHECK(getFrom("127.0.0.3", server->address()) == 200);
}

TEST_CASE("http server: limits that would let one address fill the listener are refused") {
  HttpOptions o;
  o.connectionLimit = 8;
  o.connectionsPerIp = 8;
  CHECK(startError(o).find("below the total") != std::string::npos);
  o.connectionsPerIp = 0;  // default: half the total
  CHECK(HttpServer::start(*SocketAddress::parse("127.0.0.1:0"), ok, o).ok());
}

TEST_CASE("http server: HTTPS never starts with an empty, unparsable or mismatched certificate") {
  Pems pems;
  HttpOptions o;
  o.https = true;
  CHECK(startError(o).find("certificate is empty") != std::string::npos);
  o.certPem = pems.read("cert.pem");
  CHECK(startError(o).find("private key is empty") != std::string::npos);
  o.keyPem = pems.read("other.pem");
  CHECK(startError(o).find("private key does not match the certificate") != std::string::npos);
  o.keyPem = pems.read("key.pem");
  o.certPem = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
  CHECK(startError(o).find("certificate holds no PEM certificate") != std::string::npos);
  // Only a key given (the certificate file was empty): still HTTPS or nothing.
  o.https = false;
  o.certPem.clear();
  CHECK(startError(o).find("certificate is empty") != std::string::npos);
  o.certPem = pems.read("cert.pem");
  auto served = HttpServer::start(*SocketAddress::parse("127.0.0.1:0"), ok, o);
  REQUIRE(served.ok());
  // A plain HTTP request to the HTTPS listener gets no HTTP answer.
  CHECK(getFrom("127.0.0.1", (*served)->address()) == 0);
}

}  // namespace tw::http
