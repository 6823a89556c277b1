#pragma once
// The request pipeline of one TurnServer with no sockets and no real time:
// a FakeIoPort, a ManualClock and seeded randomness. Tests (and fuzzers)
// hand it datagrams from any 5-tuple and read back exactly what the server
// would have sent. `PipelineClient` plays one client on one 5-tuple,
// answering 401/438 challenges like a real client does.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policy/config.h"
#include "policy/nonce.h"
#include "policy/snapshot.h"
#include "relay/base/clock.h"
#include "relay/base/random.h"
#include "relay/stun/builder.h"
#include "relay/stun/message.h"
#include "relay/turn/events.h"
#include "relay/turn/relay_addresses.h"
#include "relay/turn/turn_server.h"
#include "tests/support/fake_io_port.h"
#include "tests/support/long_term_auth.h"
#include "tests/support/recording_events.h"

namespace tw::testing {

/// A decoded answer: 0 for success, else its ERROR-CODE.
struct PipelineReply {
  std::vector<uint8_t> bytes;
  int code = -1;
  stun::Message msg() const { return stun::decode(bytes).value(); }
};

/// The config of a Pipeline: `extraYaml` appended to one UDP listener,
/// relay address 192.0.2.1 (ports 50000-50063), one REST secret, TCP relay on.
/// `extraListeners` ("  - {...}\n" lines) adds listeners, e.g. of other realms.
policy::Config pipelineConfig(const std::string& extraYaml = "", const std::string& extraListeners = "");

class Pipeline {
 public:
  static constexpr const char* kSecret = "pipelinepipelinepipelinepipeline";
  static constexpr const char* kRealm = "pipeline.test";
  static constexpr uint16_t kFirstPort = 50000;
  static constexpr uint16_t kLastPort = 50063;

  /// `extraYaml` and `extraListeners` as in pipelineConfig().
  explicit Pipeline(const std::string& extraYaml = "", uint64_t seed = 1,
                    const std::string& extraListeners = "");
  ~Pipeline();

  /// The 5-tuple of a client at `client` talking to the listener.
  FiveTuple tuple(const std::string& client = "203.0.113.5:40000", Transport t = Transport::Udp) const;
  /// Feeds one datagram; returns every datagram the server sent to clients.
  std::vector<FakeIoPort::ToClient> feed(const FiveTuple& t, std::span<const uint8_t> bytes);
  /// Feeds a request and returns the answer to its 5-tuple (nullopt: none).
  std::optional<PipelineReply> exchange(const FiveTuple& t, std::span<const uint8_t> bytes);
  /// Advances the clock and runs the server's timers.
  void advance(Duration d);
  /// Replaces the policy as a reload does (extra YAML as in the constructor).
  void reload(const std::string& extraYaml);
  /// Behind 1:1 NAT: relay.external_address = `ext`, advertised for the relay
  /// address, and the listener's port on it joins the self addresses, as
  /// ServerApp builds them.
  void useExternal(const IpAddress& ext);
  /// A REST name and password valid for `ttl` from now.
  std::pair<std::string, std::string> credential(const std::string& user, int64_t ttl = 3600) const;

  ManualClock clock;
  SeededRandom rng;
  FakeIoPort io;
  RecordingEvents events;  // everything the server reported, in order
  turn::RelayAddresses relays;
  std::unique_ptr<policy::NonceService> nonces;
  policy::Config config;
  std::shared_ptr<const policy::PolicySnapshot> policy;
  std::unique_ptr<turn::TurnServer> server;
  SocketAddress listener = *SocketAddress::parse("198.51.100.1:3478");

 private:
  std::vector<SocketAddress> selfAddresses() const;
  uint64_t generation_ = 1;
  std::string extraListeners_;
};

/// One client on one 5-tuple of a Pipeline.
class PipelineClient {
 public:
  using AddAttrs = std::function<void(stun::MessageBuilder&)>;
  PipelineClient(Pipeline& p, FiveTuple tuple) : p_(p), tuple_(tuple) {}
  /// A client with a fresh REST credential of `user`.
  static PipelineClient authed(Pipeline& p, const std::string& user = "alice",
                               const std::string& from = "203.0.113.5:40000", Transport t = Transport::Udp);

  void setCredentials(std::string username, std::string password);
  /// Builds a request; `auth` adds USERNAME/REALM/NONCE/MESSAGE-INTEGRITY.
  std::vector<uint8_t> build(stun::Method m, const AddAttrs& add, bool auth,
                             const stun::TransactionId* txn = nullptr);
  /// Sends, answering one 401/438 challenge with the credentials.
  std::optional<PipelineReply> request(stun::Method m, const AddAttrs& add = {});
  std::optional<PipelineReply> allocate(const AddAttrs& extra = {}, uint8_t transport = 17);
  std::optional<PipelineReply> refresh(uint32_t lifetime);
  std::optional<PipelineReply> createPermission(const SocketAddress& peer);
  std::optional<PipelineReply> channelBind(uint16_t channel, const SocketAddress& peer);
  const FiveTuple& tuple() const { return tuple_; }
  const std::string& username() const { return auth_.username; }
  stun::TransactionId newTransactionId();

 private:
  Pipeline& p_;
  FiveTuple tuple_;
  LongTermAuth auth_;
  uint64_t txnCounter_ = 1;
};

}  // namespace tw::testing
