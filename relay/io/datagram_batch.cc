#include "relay/io/datagram_batch.h"

#include <cstring>

namespace tw::io {

DatagramBatch::DatagramBatch() {
  for (size_t i = 0; i < kBatch; ++i) {
    iov_[i] = iovec{data_[i].data(), kSlot};
    std::memset(&hdrs_[i], 0, sizeof hdrs_[i]);
    hdrs_[i].msg_hdr.msg_iov = &iov_[i];
    hdrs_[i].msg_hdr.msg_iovlen = 1;
  }
}

size_t DatagramBatch::receive(int fd) {
  for (size_t i = 0; i < kBatch; ++i) {
    hdrs_[i].msg_hdr.msg_name = &addrs_[i];
    hdrs_[i].msg_hdr.msg_namelen = sizeof addrs_[i];
    hdrs_[i].msg_hdr.msg_flags = 0;
    hdrs_[i].msg_hdr.msg_control = control_[i].bytes.data();
    hdrs_[i].msg_hdr.msg_controllen = control_[i].bytes.size();
  }
  const int n = ::recvmmsg(fd, hdrs_.data(), kBatch, MSG_DONTWAIT, nullptr);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

std::span<const uint8_t> DatagramBatch::payload(size_t i) const {
  const size_t len = hdrs_[i].msg_len < kSlot ? hdrs_[i].msg_len : kSlot;
  return {data_[i].data(), len};
}

std::optional<SocketAddress> DatagramBatch::source(size_t i) const {
  return SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&addrs_[i]));
}

bool DatagramBatch::truncated(size_t i) const { return (hdrs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0; }

std::optional<IpAddress> DatagramBatch::destination(size_t i) const {
  return packetDestination(hdrs_[i].msg_hdr);
}

}  // namespace tw::io
