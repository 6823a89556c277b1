#pragma once
#include "relay/base/address.h"
#include "relay/base/result.h"
#include "relay/io/handles.h"

namespace tw::io {

/// Opens a non-blocking UDP socket bound to `local`. IPv6 sockets are
/// v6-only (dual stack is configured with two listeners). `reusePort` lets
/// each worker bind its own listener socket (SO_REUSEPORT). Returns errno.
Result<UniqueFd, int> openUdpSocket(const SocketAddress& local, bool reusePort);

/// The address a socket is actually bound to (resolves port 0).
std::optional<SocketAddress> localAddress(int fd);

}  // namespace tw::io
