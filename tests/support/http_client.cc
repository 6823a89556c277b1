#include "tests/support/http_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "relay/io/handles.h"

namespace tw::testing {

namespace {

bool sendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += size_t(n);
  }
  return true;
}

/// Reads until the server closes the connection or the deadline passes.
std::optional<std::string> readAll(int fd, int timeoutMs) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  std::string data;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return data;
    if (n < 0) return std::nullopt;
    data.append(buf, size_t(n));
  }
  return std::nullopt;
}

std::optional<HttpReply> parse(const std::string& raw) {
  const size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || end == std::string::npos || raw.size() < 12) return std::nullopt;
  HttpReply r;
  r.status = std::stoi(raw.substr(9, 3));
  r.headers = raw.substr(0, end);
  r.body = raw.substr(end + 4);
  return r;
}

}  // namespace

std::optional<HttpReply> httpRequest(const SocketAddress& server, const std::string& method,
                                     const std::string& path, const std::string& extraHeaders,
                                     const std::string& body, int timeoutMs) {
  sockaddr_storage ss{};
  const socklen_t len = server.toSockaddr(ss);
  io::UniqueFd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return std::nullopt;
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + server.toString() +
                    "\r\nConnection: close\r\n" + extraHeaders;
  if (!body.empty() || method == "POST") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  if (!sendAll(fd.get(), req)) return std::nullopt;
  auto raw = readAll(fd.get(), timeoutMs);
  if (!raw) return std::nullopt;
  return parse(*raw);
}

}  // namespace tw::testing
