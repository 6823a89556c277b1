#include "relay/io/udp_socket.h"

#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <fstream>

using namespace tw;

namespace {
int sockOpt(int fd, int opt) {
  int v = 0;
  socklen_t len = sizeof v;
  REQUIRE(::getsockopt(fd, SOL_SOCKET, opt, &v, &len) == 0);
  return v;
}
int sysctlInt(const char* path) {
  std::ifstream f(path);
  int v = 0;
  f >> v;
  return v;
}
}  // namespace

TEST_CASE("udp socket: a listener asks for big kernel buffers, capped by the sysctl limits") {
  auto fd = io::openUdpSocket(*SocketAddress::parse("127.0.0.1:0"), true, io::kListenerBufferBytes);
  REQUIRE(fd.ok());
  auto plain = io::openUdpSocket(*SocketAddress::parse("127.0.0.1:0"), false);
  REQUIRE(plain.ok());
  // Linux doubles the request (bookkeeping) and caps it at rmem_max/wmem_max.
  const int rcvCap = std::min(io::kListenerBufferBytes, sysctlInt("/proc/sys/net/core/rmem_max"));
  const int sndCap = std::min(io::kListenerBufferBytes, sysctlInt("/proc/sys/net/core/wmem_max"));
  CHECK(sockOpt(fd->get(), SO_RCVBUF) >= rcvCap);
  CHECK(sockOpt(fd->get(), SO_SNDBUF) >= sndCap);
  CHECK(sockOpt(fd->get(), SO_RCVBUF) >= sockOpt(plain->get(), SO_RCVBUF));
  CHECK(sockOpt(fd->get(), SO_REUSEPORT) == 1);
  CHECK(sockOpt(plain->get(), SO_REUSEPORT) == 0);
}
