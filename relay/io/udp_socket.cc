#include "relay/io/udp_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

namespace tw::io {

namespace {
void setInt(int fd, int level, int opt, int value) {
  setsockopt(fd, level, opt, &value, sizeof value);
}
}  // namespace

Result<UniqueFd, int> openUdpSocket(const SocketAddress& local, bool reusePort, int bufferBytes) {
  const int af = local.ip.isV4() ? AF_INET : AF_INET6;
  UniqueFd fd(::socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return err(errno);
  if (af == AF_INET6) setInt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1);
  if (reusePort) setInt(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1);
  if (bufferBytes > 0) {
    setInt(fd.get(), SOL_SOCKET, SO_RCVBUF, bufferBytes);
    setInt(fd.get(), SOL_SOCKET, SO_SNDBUF, bufferBytes);
  }
  sockaddr_storage ss;
  const socklen_t len = local.toSockaddr(ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return err(errno);
  return fd;
}

ListenerPtr listenTcp(event_base* base, const SocketAddress& local, evconnlistener_cb cb,
                      void* arg, int backlog) {
  sockaddr_storage ss;
  const socklen_t len = local.toSockaddr(ss);
  unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE |
                   LEV_OPT_REUSEABLE_PORT;
  if (!local.ip.isV4()) flags |= LEV_OPT_BIND_IPV6ONLY;  // v4 has its own socket
  return ListenerPtr(evconnlistener_new_bind(base, cb, arg, flags, backlog,
                                             reinterpret_cast<sockaddr*>(&ss), static_cast<int>(len)));
}

std::optional<SocketAddress> localAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  return SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
}

}  // namespace tw::io
