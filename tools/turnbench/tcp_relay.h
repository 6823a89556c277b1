#pragma once
// The TCP relay (RFC 6062) part of turnbench: N streams, each a TCP
// allocation that Connects to a loopback sink, binds a data connection and
// writes as fast as the relay takes bytes for a fixed time.
#include <string>

#include "relay/base/address.h"

namespace tw::bench {

struct TcpRelayOptions {
  SocketAddress server;  ///< the server's TCP listener
  std::string secret;
  int streams = 4;
  double seconds = 5;
};

/// Megabits per second delivered to the sinks; negative when set-up failed.
double runTcpRelay(const TcpRelayOptions& o);

}  // namespace tw::bench
