#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <optional>
#include <span>

#include "relay/base/address.h"
#include "relay/base/result.h"
#include "relay/io/handles.h"

namespace tw::io {

/// Opens a non-blocking UDP socket bound to `local`. IPv6 sockets are
/// v6-only (dual stack is configured with two listeners). `reusePort` lets
/// each worker bind its own listener socket (SO_REUSEPORT). `bufferBytes`
/// > 0 asks for that much kernel receive and send buffer (the kernel caps it
/// at net.core.rmem_max / wmem_max). Returns errno.
Result<UniqueFd, int> openUdpSocket(const SocketAddress& local, bool reusePort, int bufferBytes = 0);

/// Listener sockets carry every client of a worker: a burst that arrives
/// while the loop is busy waits here instead of being dropped by the kernel.
constexpr int kListenerBufferBytes = 4 << 20;

/// A listening TCP socket on `local` (close-on-exec, SO_REUSEADDR and
/// SO_REUSEPORT; IPv6 sockets are v6-only) whose connections go to `cb`.
/// Null on failure, with errno set. Client listeners and TCP relay share it.
ListenerPtr listenTcp(event_base* base, const SocketAddress& local, evconnlistener_cb cb, void* arg,
                      int backlog);

/// The address a socket is actually bound to (resolves port 0).
std::optional<SocketAddress> localAddress(int fd);

/// Asks the kernel to report each datagram's destination address
/// (IP_PKTINFO / IPV6_RECVPKTINFO). A listener bound to the wildcard needs it
/// to answer from the address the client sent to: on a host with several
/// addresses the default source is the primary one, which the client's NAT
/// or firewall drops.
void enableDestinationInfo(int fd, Family family);

/// Control-message room for one packet-info message (either family) plus one
/// UDP_SEGMENT (GSO) message.
constexpr size_t kControlBytes = CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(uint16_t));

/// The destination address of a received datagram, from its IP_PKTINFO /
/// IPV6_PKTINFO control message (nullopt without one).
std::optional<IpAddress> packetDestination(const msghdr& msg);

/// Builds the control messages of one outgoing datagram into `room`
/// (kControlBytes, cmsghdr-aligned) and points msg at them: the source
/// address `from` (packet info) and, when `segment` > 0, UDP GSO with that
/// segment size.
void setSendControl(msghdr& msg, std::span<uint8_t> room, const std::optional<IpAddress>& from,
                    uint16_t segment);

/// sendmsg() of one datagram to `to`, from `from` when set. false when the
/// kernel refused it.
bool sendDatagramFrom(int fd, const SocketAddress& to, const std::optional<IpAddress>& from,
                      std::span<const uint8_t> bytes);

}  // namespace tw::io
