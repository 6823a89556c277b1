#pragma once
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
ListenerPtr listenTcp(event_base* base, const SocketAddress& local, evconnlistener_cb cb,
                      void* arg, int backlog);

/// The address a socket is actually bound to (resolves port 0).
std::optional<SocketAddress> localAddress(int fd);

}  // namespace tw::io
