#pragma once
// Paced (open-loop) ChannelData load for turnbench: every leg sends at a
// fixed rate to its partner through the server (TURN relay-to-relay, or the
// bare forwarder), datagrams leave with UDP GSO and are read with recvmmsg,
// so one generator core can offer more than one server core can relay.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "relay/base/address.h"

namespace tw::bench {

struct LoadResult {
  uint64_t sent = 0;
  uint64_t received = 0;          ///< during the send window and the settle time
  uint64_t receivedInWindow = 0;  ///< during the send window only
  double seconds = 0;
  std::vector<uint32_t> latencyUs;  ///< one-way client->server->client, when asked
  double lossPercent() const {
    return sent ? 100.0 * double(sent - std::min(sent, received)) / double(sent) : 0;
  }
  /// Microseconds at quantile q (0..1) of latencyUs (sorted by the caller's run()).
  double latency(double q) const;
};

struct LoadOptions {
  double rate = 10000;  ///< datagrams per second, all legs together
  double seconds = 2;
  size_t size = 160;     ///< ChannelData payload bytes
  bool latency = false;  ///< stamp each datagram and record its delivery time
};

/// Sends from legs[i] to legs[i^1] (fds of connected-to-server UDP
/// sockets whose partner relays to them) at o.rate for o.seconds, then
/// waits 300 ms for stragglers.
LoadResult runLoad(const SocketAddress& server, const std::vector<int>& legFds, const LoadOptions& o);

/// Highest rate with at most `maxLossPercent` loss, by doubling then
/// bisection between 0 and `ceiling`, each probe `probeSeconds` long.
double findLossless(const SocketAddress& server, const std::vector<int>& legFds, const LoadOptions& base,
                    double ceiling, double maxLossPercent);

}  // namespace tw::bench
