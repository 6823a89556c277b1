#pragma once
// The load of scripts/soak, one class per kind of traffic. Each is driven by
// the soak loop with step(now), sends only to loopback, and keeps the counts
// the verdict is made of. Every loop here is bounded per step.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "relay/io/udp_socket.h"
#include "tests/support/raw_tcp.h"
#include "tests/support/stun_client.h"

namespace tw::soak {

using Clock = std::chrono::steady_clock;
/// Mints a REST credential (name, password) for `user` with the current secret.
using Minter = std::function<std::pair<std::string, std::string>(const std::string& user)>;

struct Target {
  SocketAddress udp;  ///< the server's UDP listener
  SocketAddress tcp;  ///< its TCP listener
  Minter mint;
};

/// A loopback UDP socket standing in for the peers of every session.
struct UdpPeer {
  UdpPeer();
  io::UniqueFd fd;
  SocketAddress addr;
};

/// Steady relaying: one allocation with a channel to the peer; the client
/// sends ChannelData, the peer answers to the relayed address; both counted.
class Session {
 public:
  Session(const Target& t, UdpPeer& peer, int index);
  bool ok() const { return ok_; }
  void send();     // one packet each way
  void receive();  // drains the client socket (non-blocking)
  void countAtPeer() { ++received_[0]; }
  const SocketAddress& relayed() const { return relayed_; }
  /// Drains, then refreshes the allocation and its channel binding (which
  /// renews the permission too); false when either is refused.
  bool refresh(uint32_t lifetime);
  uint64_t sent() const { return sent_; }
  uint64_t receivedToPeer() const { return received_[0]; }
  uint64_t receivedToClient() const { return received_[1]; }
  double loss() const;

 private:
  std::unique_ptr<testing::StunClient> client_;
  UdpPeer& peer_;
  SocketAddress relayed_;
  uint16_t channel_ = 0;
  bool ok_ = false;
  uint64_t sent_ = 0;
  uint64_t received_[2] = {0, 0};
};

/// Allocation churn: Allocate, CreatePermission, Refresh 0, over and over.
struct Churn {
  uint64_t ok = 0, failed = 0;
  void step(const Target& t, const SocketAddress& peer, int n);
};

/// A source guessing passwords (127.0.0.3): must end up banned.
struct BruteForce {
  explicit BruteForce(const Target& t);
  void step();
  std::unique_ptr<testing::StunClient> client;
  uint64_t tries = 0, answered = 0;
};

/// An allocation (127.0.0.5) walking denied and allowed peers: denied ones
/// must get 403, the allowed one 0.
struct Scanner {
  Scanner(const Target& t, const SocketAddress& allowed);
  void step();
  const Target& target;
  SocketAddress allowed;
  std::unique_ptr<testing::StunClient> client;
  uint64_t denied_ = 0, allowedOk = 0, wrong = 0, reallocated = 0;
  size_t next = 0;
};

/// Malformed and oversize datagrams from 127.0.0.4.
struct Flood {
  Flood();
  void step(const SocketAddress& to, int n);
  io::UniqueFd fd;
  uint64_t sent = 0;
};

/// A TCP relay session (RFC 6062) pumping data both ways through the relay.
class TcpSession {
 public:
  /// `sinks` is the allowed TCP peer the session Connects to.
  TcpSession(const Target& t, testing::PeerListener& sinks);
  bool ok() const { return ok_; }
  void step();  // one chunk each way, then drain
  void drain();
  /// Refreshes the allocation and the permission for the sink; false when refused.
  bool refresh();
  uint64_t sent() const { return sent_[0] + sent_[1]; }
  uint64_t received() const { return received_[0] + received_[1]; }

 private:
  std::unique_ptr<testing::StunClient> control_;
  testing::RawTcp data_, sink_;
  SocketAddress peerAddr_;
  bool ok_ = false;
  uint64_t sent_[2] = {0, 0}, received_[2] = {0, 0};
};

}  // namespace tw::soak
