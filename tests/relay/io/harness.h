#pragma once
// An in-process turnwarden worker on real loopback sockets, driven with a
// manual clock: the test pumps the event loop while its client waits.
#include <event2/event.h>

#include <memory>
#include <string>

#include "policy/config.h"
#include "policy/credentials.h"
#include "policy/nonce.h"
#include "policy/snapshot.h"
#include "relay/io/worker.h"
#include "relay/turn/fanout_events.h"
#include "relay/turn/log_events.h"
#include "tests/support/stun_client.h"

namespace tw::testing {

constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";
/// Extra YAML letting allocations relay to loopback peers (the test peers).
inline const std::string kAllowLoopback = "peers:\n  allowed: [127.0.0.1/32]\n";

/// Config text with the given extra YAML appended (e.g. a peers: section),
/// then the binary's io: section (harnessIo).
std::string harnessConfig(uint16_t portMin, uint16_t portMax, const std::string& extra);

/// The `io:` section every Harness of this test binary runs its worker with
/// (empty: the defaults). Set once, before the tests run, from the command
/// line (tests/relay/io/io_main.cc, `--io "{uring: off}"`), so one binary
/// runs its tests on either I/O path.
std::string& harnessIo();

class Harness;

/// A throw-away self-signed certificate (openssl CLI) in a private temp dir.
struct TempCert {
  TempCert();
  ~TempCert();
  std::string cert() const { return dir + "/cert.pem"; }
  std::string key() const { return dir + "/key.pem"; }
  std::string dir;
};

/// A plain UDP socket standing in for a peer on loopback; receive() pumps
/// the harness while it waits.
struct UdpPeer {
  explicit UdpPeer(const char* bindTo = "127.0.0.1:0");
  std::optional<std::vector<uint8_t>> receive(Harness& h, int ms = 500);
  void sendTo(const SocketAddress& to, std::span<const uint8_t> bytes);
  io::UniqueFd fd;
  SocketAddress addr;
};

class Harness {
 public:
  explicit Harness(const std::string& extraYaml = "", int portSpan = 64);
  ~Harness();

  StunClient client();
  /// A REST username/password pair valid for `ttl` seconds from now.
  std::pair<std::string, std::string> credential(const std::string& user, int64_t ttl = 3600);
  StunClient authedClient(const std::string& user = "alice");
  void pump();
  /// Advances the manual clock and runs the worker's timers.
  void advance(Duration d);
  turn::TurnServer& server() { return worker->server(); }
  turn::PortPool& pool() { return *relays.endpoints().front().pool; }

  ManualClock clock;
  CsprngRandom rng;
  Logger log{stderr, LogLevel::Error};
  turn::LogEvents logEvents{log, clock};
  /// What the worker reports to: logEvents, then any sink a test adds.
  turn::FanoutEvents events;
  turn::RelayAddresses relays;
  std::unique_ptr<policy::NonceService> nonces;
  std::unique_ptr<policy::PolicyHolder> holder;
  std::unique_ptr<io::Worker> worker;
  SocketAddress address;
  policy::Config config;
};

}  // namespace tw::testing
