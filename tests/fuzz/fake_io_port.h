#pragma once
// A fake turn::IoPort for the pipeline fuzz target: relay sockets are
// numbers, datagrams to clients are kept for the harness to read (nonces,
// tokens), and every datagram to a peer is checked against `peerAllowed`
// the moment it is sent.
#include <functional>
#include <set>
#include <utility>
#include <vector>

#include "relay/turn/io_port.h"
#include "tests/fuzz/fuzz_input.h"

namespace tw::fuzz {

class FakeIoPort final : public turn::IoPort {
 public:
  /// Set by the harness: may the allocation owning `handle` send to `peer` now?
  std::function<bool(turn::RelayHandle, const SocketAddress&)> peerAllowed;
  /// The next openUdpRelay fails with EADDRINUSE (another process holds the port).
  bool failNextOpen = false;

  Result<turn::RelayHandle, int> openUdpRelay(const SocketAddress&, uint64_t) override {
    if (std::exchange(failNextOpen, false)) return err(98);  // EADDRINUSE
    const turn::RelayHandle h = next_++;
    open_.insert(h);
    return h;
  }
  void closeRelay(turn::RelayHandle handle) override {
    FUZZ_CHECK(open_.erase(handle) == 1);  // never a double close or a stranger's handle
  }
  bool sendToPeer(turn::RelayHandle handle, const SocketAddress& peer, std::span<const uint8_t>) override {
    FUZZ_CHECK(open_.count(handle) == 1);
    FUZZ_CHECK(!peerAllowed || peerAllowed(handle, peer));
    return true;
  }
  bool sendToClient(const FiveTuple& tuple, std::span<const uint8_t> bytes) override {
    toClients_.emplace_back(tuple, std::vector<uint8_t>(bytes.begin(), bytes.end()));
    return true;
  }

  bool isOpen(turn::RelayHandle h) const { return open_.count(h) == 1; }
  size_t openCount() const { return open_.size(); }
  std::vector<std::pair<FiveTuple, std::vector<uint8_t>>> takeClientDatagrams() {
    return std::exchange(toClients_, {});
  }

 private:
  turn::RelayHandle next_ = 1;
  std::set<turn::RelayHandle> open_;
  std::vector<std::pair<FiveTuple, std::vector<uint8_t>>> toClients_;
};

}  // namespace tw::fuzz
