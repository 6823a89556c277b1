#pragma once
// A loopback UDP listener that counts the datagrams it receives: the peer
// end of live-binary relay tests (a relay that must stop within one packet).
#include <sys/socket.h>

#include <chrono>
#include <thread>
#include <vector>

#include "relay/io/udp_socket.h"

namespace tw::testing {

struct CountingPeer {
  io::UniqueFd fd;
  SocketAddress addr;
  CountingPeer() {
    fd = std::move(io::openUdpSocket(*SocketAddress::parse("127.0.0.1:0"), false).value());
    addr = *io::localAddress(fd.get());
  }
  /// Datagrams that arrive within `ms`.
  int count(int ms = 300) {
    std::vector<uint8_t> buf(65536);
    int n = 0;
    for (int i = 0; i < ms / 5; ++i) {
      while (::recv(fd.get(), buf.data(), buf.size(), MSG_DONTWAIT) >= 0) ++n;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return n;
  }
};

}  // namespace tw::testing
