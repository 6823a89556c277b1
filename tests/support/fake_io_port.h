#pragma once
// The IoPort seam without sockets: a TurnServer driven by a test (or a
// fuzzer) sends through this, and the test reads what would have gone out.
// Relay handles are small integers; a bind can be made to fail (errno) per
// address, and the TCP relay calls are recorded so the test can answer them
// through TurnServer::onTcpPeer*.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "relay/turn/io_port.h"

namespace tw::testing {

class FakeIoPort final : public turn::IoPort {
 public:
  struct ToClient {
    FiveTuple tuple;
    std::vector<uint8_t> bytes;
  };
  struct ToPeer {
    turn::RelayHandle relay;
    SocketAddress peer;
    std::vector<uint8_t> bytes;
  };
  struct Relay {
    SocketAddress local;
    uint64_t allocationId = 0;
    bool tcp = false;
  };
  struct TcpConnect {
    turn::RelayHandle relay;
    SocketAddress peer;
    uint32_t id = 0;
  };

  Result<turn::RelayHandle, int> openUdpRelay(const SocketAddress& local, uint64_t allocationId) override {
    return open(local, allocationId, false);
  }
  Result<turn::RelayHandle, int> openTcpRelay(const SocketAddress& local, uint64_t allocationId) override {
    return open(local, allocationId, true);
  }
  void closeRelay(turn::RelayHandle h) override {
    if (h != turn::kNoRelay && relays.erase(h) == 0) ++strayCloses;
  }
  bool sendToPeer(turn::RelayHandle h, const SocketAddress& peer, std::span<const uint8_t> bytes) override {
    if (onSendToPeer) onSendToPeer(h, peer);
    if (!relays.count(h) || refuseSends) return false;
    toPeer.push_back({h, peer, {bytes.begin(), bytes.end()}});
    return true;
  }
  bool sendToClient(const FiveTuple& tuple, std::span<const uint8_t> bytes) override {
    if (refuseSends) return false;
    toClient.push_back({tuple, {bytes.begin(), bytes.end()}});
    return true;
  }
  bool connectTcpPeer(turn::RelayHandle relay, const SocketAddress& peer, uint32_t id) override {
    if (refuseConnects) return false;
    connects.push_back({relay, peer, id});
    return true;
  }
  bool bindTcpPeer(const FiveTuple& client, uint32_t id, uint64_t /*maxBps*/) override {
    if (refuseBinds) return false;
    bound[id] = client;
    return true;
  }
  void closeTcpPeer(uint32_t id) override {
    closedTcp.insert(id);
    bound.erase(id);
  }

  /// The last datagram sent to a client, removed from the queue.
  std::optional<ToClient> takeToClient() {
    if (toClient.empty()) return std::nullopt;
    ToClient out = std::move(toClient.front());
    toClient.erase(toClient.begin());
    return out;
  }

  /// Binding `local` fails with `error` (e.g. EADDRINUSE) from now on.
  std::map<SocketAddress, int> failBind;
  bool refuseSends = false;
  bool refuseConnects = false;
  bool refuseBinds = false;
  /// Sees every send to a peer as it happens, before the fake decides (the
  /// pipeline fuzzer checks the peer rules at that moment).
  std::function<void(turn::RelayHandle, const SocketAddress&)> onSendToPeer;
  /// closeRelay calls for a handle that is not open: a double close.
  size_t strayCloses = 0;

  std::map<turn::RelayHandle, Relay> relays;  // open relay sockets
  std::vector<ToClient> toClient;
  std::vector<ToPeer> toPeer;
  std::vector<TcpConnect> connects;
  std::map<uint32_t, FiveTuple> bound;
  std::set<uint32_t> closedTcp;

 private:
  Result<turn::RelayHandle, int> open(const SocketAddress& local, uint64_t id, bool tcp) {
    if (auto it = failBind.find(local); it != failBind.end()) return err(it->second);
    for (const auto& [h, r] : relays)
      if (r.local == local) return err(98);  // EADDRINUSE: the fake kernel holds each address once
    relays[next_] = Relay{local, id, tcp};
    return next_++;
  }
  turn::RelayHandle next_ = 1;
};

}  // namespace tw::testing
