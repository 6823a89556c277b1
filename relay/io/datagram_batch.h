#pragma once
// Reads up to kBatch datagrams per recvmmsg() call into fixed buffers owned
// by the worker, so the read path allocates nothing.
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <span>

#include "relay/base/address.h"
#include "relay/io/udp_socket.h"

namespace tw::io {

class DatagramBatch {
 public:
  static constexpr size_t kBatch = 32;
  static constexpr size_t kSlot = 8192;  // larger datagrams are truncated and dropped

  DatagramBatch();
  /// Reads what is queued on fd (non-blocking); returns the count (0 on EAGAIN).
  size_t receive(int fd);
  std::span<const uint8_t> payload(size_t i) const;
  /// Sender of datagram i (nullopt for an unknown family).
  std::optional<SocketAddress> source(size_t i) const;
  /// True when datagram i did not fit in its slot.
  bool truncated(size_t i) const;
  /// The local address datagram i was sent to, when the socket reports it
  /// (enableDestinationInfo: wildcard listeners).
  std::optional<IpAddress> destination(size_t i) const;

 private:
  std::array<std::array<uint8_t, kSlot>, kBatch> data_;
  std::array<sockaddr_storage, kBatch> addrs_;
  std::array<iovec, kBatch> iov_;
  std::array<mmsghdr, kBatch> hdrs_;
  struct alignas(cmsghdr) Control {
    std::array<uint8_t, kControlBytes> bytes;
  };
  std::array<Control, kBatch> control_;
};

}  // namespace tw::io
