#include "relay/io/udp_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace tw::io {

namespace {
void setInt(int fd, int level, int opt, int value) { setsockopt(fd, level, opt, &value, sizeof value); }
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

ListenerPtr listenTcp(event_base* base, const SocketAddress& local, evconnlistener_cb cb, void* arg,
                      int backlog) {
  sockaddr_storage ss;
  const socklen_t len = local.toSockaddr(ss);
  unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT;
  if (!local.ip.isV4()) flags |= LEV_OPT_BIND_IPV6ONLY;  // v4 has its own socket
  return ListenerPtr(evconnlistener_new_bind(base, cb, arg, flags, backlog, reinterpret_cast<sockaddr*>(&ss),
                                             static_cast<int>(len)));
}

std::optional<SocketAddress> localAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  return SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
}

void enableDestinationInfo(int fd, Family family) {
  if (family == Family::V4)
    setInt(fd, IPPROTO_IP, IP_PKTINFO, 1);
  else
    setInt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
}

std::optional<IpAddress> packetDestination(const msghdr& msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      return IpAddress::v4(ntohl(info.ipi_addr.s_addr));
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      std::array<uint8_t, 16> b;
      std::memcpy(b.data(), &info.ipi6_addr, b.size());
      return IpAddress::v6(b);
    }
  }
  return std::nullopt;
}

namespace {
/// Writes one control message at `c` and returns where the next one goes.
cmsghdr* putControl(msghdr& msg, cmsghdr* c, int level, int type, const void* data, size_t len,
                    size_t& used) {
  c->cmsg_level = level;
  c->cmsg_type = type;
  c->cmsg_len = CMSG_LEN(len);
  std::memcpy(CMSG_DATA(c), data, len);
  used += CMSG_SPACE(len);
  return CMSG_NXTHDR(&msg, c);
}
}  // namespace

void setSendControl(msghdr& msg, std::span<uint8_t> room, const std::optional<IpAddress>& from,
                    uint16_t segment) {
  // Zeroed first: CMSG_NXTHDR reads the next header's length field.
  std::memset(room.data(), 0, room.size());
  msg.msg_control = room.data();
  msg.msg_controllen = room.size();
  size_t used = 0;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (from && from->isV4()) {
    in_pktinfo info{};
    std::memcpy(&info.ipi_spec_dst, from->bytes().data(), 4);
    c = putControl(msg, c, IPPROTO_IP, IP_PKTINFO, &info, sizeof info, used);
  } else if (from) {
    in6_pktinfo info{};
    std::memcpy(&info.ipi6_addr, from->bytes().data(), 16);
    c = putControl(msg, c, IPPROTO_IPV6, IPV6_PKTINFO, &info, sizeof info, used);
  }
  if (segment > 0) putControl(msg, c, SOL_UDP, UDP_SEGMENT, &segment, sizeof segment, used);
  msg.msg_controllen = used;
  if (used == 0) msg.msg_control = nullptr;
}

bool sendDatagramFrom(int fd, const SocketAddress& to, const std::optional<IpAddress>& from,
                      std::span<const uint8_t> bytes) {
  sockaddr_storage ss;
  const socklen_t len = to.toSockaddr(ss);
  if (!from) {
    return ::sendto(fd, bytes.data(), bytes.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&ss), len) >= 0;
  }
  iovec iov{const_cast<uint8_t*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_name = &ss;
  msg.msg_namelen = len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) std::array<uint8_t, kControlBytes> room{};
  setSendControl(msg, room, from, 0);
  return ::sendmsg(fd, &msg, MSG_DONTWAIT) >= 0;
}

}  // namespace tw::io
