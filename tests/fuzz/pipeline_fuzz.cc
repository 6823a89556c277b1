// libFuzzer target: the whole request pipeline (relay/turn/turn_server.h)
// without sockets, driven by a sequence of steps from several 5-tuples:
// raw datagrams, well-formed requests signed with valid (or wrong)
// credentials and the nonce the server last gave that client, ChannelData,
// peer datagrams, and clock steps with tick(). The IoPort is the shared
// fake (tests/support/fake_io_port.h): it records relay sockets, and the
// harness checks every datagram the server sends to a peer as it is sent.
//
// Invariants, checked after every step:
//  - no allocation without a port: each allocation's relay handle is open in
//    the fake, its port is live in the pool, and no relay socket is open
//    without an allocation (no leak, no double close);
//  - no permission to a denied peer: every permission's address passes the
//    peer rules or is this server's relay address (relay-to-relay), and no
//    datagram ever goes to a peer the rules deny at the moment it is sent;
//  - quota counts equal live allocations: total, per (USERNAME, client IP)
//    and per client IP.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "policy/config.h"
#include "policy/credentials.h"
#include "policy/nonce.h"
#include "policy/snapshot.h"
#include "relay/base/clock.h"
#include "relay/base/random.h"
#include "relay/stun/builder.h"
#include "relay/stun/channel_data.h"
#include "relay/stun/integrity.h"
#include "relay/turn/turn_server.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/support/fake_io_port.h"

namespace {

using namespace tw;
using tw::fuzz::FuzzInput;

constexpr const char* kSecret = "pipelinepipelinepipelinepipeline";
constexpr const char* kRealm = "fuzz.realm";
constexpr uint16_t kListenPort = 3478;
/// Rate-limit and ban tables of 16 sets x 4 ways: the few sources here fit, and no
/// megabytes are zeroed for every input (37 inputs/s with the production size).
constexpr size_t kTableSets = 16;
constexpr std::array<const char*, 2> kUsers = {"alice", "bob"};

const std::string& configText() {
  static const std::string text = std::string("realm: ") + kRealm +
                                  "\nlisteners:\n  - {transport: udp, address: 127.0.0.1, port: 3478}\n"
                                  "relay:\n  addresses: [127.0.0.1]\n  port_range: 40000-40011\n"
                                  "auth:\n  secrets: [{id: k1, value: \"" +
                                  kSecret +
                                  "\"}]\n"
                                  "peers:\n  allowed: [127.0.0.5/32]\n"
                                  "quotas:\n  per_user: 3\n  total: 8\n";
  return text;
}

/// The fixed set of peers a step can name: allowed ones, every kind of denied
/// one (private, metadata, unspecified, IPv4 in IPv6, the server itself), and
/// relay addresses (live or not).
std::vector<SocketAddress> fixedPeers() {
  std::vector<SocketAddress> out;
  for (const char* p :
       {"127.0.0.5:9", "8.8.8.8:53", "[2001:4860::8888]:53", "10.0.0.1:80", "169.254.169.254:80",
        "0.0.0.0:80", "[::]:80", "[::ffff:127.0.0.1]:80", "[64:ff9b::a00:1]:80", "[2002:7f00:1::]:80",
        "127.0.0.1:3478", "127.0.0.1:40000", "127.0.0.1:40005", "127.0.0.1:40011"})
    out.push_back(*SocketAddress::parse(p));
  return out;
}

struct World {
  ManualClock clock;
  SeededRandom rng{0x5eed};
  turn::RelayEvents events;
  turn::RelayAddresses relays;
  policy::Config config;
  std::shared_ptr<const policy::PolicySnapshot> snapshot;
  std::unique_ptr<policy::NonceService> nonces;
  std::unique_ptr<tw::testing::FakeIoPort> io;
  std::unique_ptr<turn::TurnServer> server;
  std::vector<FiveTuple> tuples;
  std::vector<SocketAddress> peers = fixedPeers();
  std::vector<SocketAddress> relayAddresses;           // every address a relay socket can bind
  std::unordered_map<FiveTuple, std::string> nonceOf;  // latest NONCE each client was given
  std::vector<stun::TransactionId> txids;              // for retransmissions
  std::optional<uint64_t> lastToken;                   // latest RESERVATION-TOKEN handed out

  World() {
    static const policy::Config parsed = [] {
      auto c = policy::parseConfig(configText(), "/fuzz/pipeline.yaml");
      FUZZ_CHECK(c.ok());
      return c.value();
    }();
    config = parsed;
    snapshot = policy::buildSnapshot(config, 1, {*SocketAddress::parse("127.0.0.1:3478")});
    std::array<uint8_t, 32> key{};
    rng.fill(key);
    nonces = std::make_unique<policy::NonceService>(key, config.auth.nonceLifetime);
    relays.add(config.relay.addresses[0], config.relay.addresses[0], config.relay.portMin,
               config.relay.portMax);
    for (unsigned p = config.relay.portMin; p <= config.relay.portMax; ++p)
      relayAddresses.push_back(SocketAddress{config.relay.addresses[0], uint16_t(p)});
    io = std::make_unique<tw::testing::FakeIoPort>();
    server = std::make_unique<turn::TurnServer>(turn::ServerDeps{.clock = clock,
                                                                 .rng = rng,
                                                                 .io = *io,
                                                                 .events = events,
                                                                 .relays = relays,
                                                                 .nonces = *nonces,
                                                                 .tableSets = kTableSets},
                                                snapshot);
    // Never a send from a closed relay socket, never to a peer denied now.
    io->onSendToPeer = [this](turn::RelayHandle h, const SocketAddress& peer) {
      FUZZ_CHECK(io->relays.count(h) == 1);
      FUZZ_CHECK(allowedPeer(h, peer));
    };
    const SocketAddress listen{IpAddress::v4(127, 0, 0, 1), kListenPort};
    const SocketAddress listen6{*IpAddress::parse("::1"), kListenPort};
    for (const char* c : {"127.0.0.1:5000", "127.0.0.1:5001", "127.0.0.2:5000"})
      tuples.push_back(FiveTuple{*SocketAddress::parse(c), listen, Transport::Udp});
    tuples.push_back(FiveTuple{*SocketAddress::parse("[::1]:5000"), listen6, Transport::Udp});
  }

  /// The rule every datagram to a peer must satisfy when it is sent.
  bool allowedPeer(turn::RelayHandle h, const SocketAddress& peer) {
    const turn::Allocation* owner = nullptr;
    server->allocations().forEach([&](turn::Allocation& a) {
      if (a.relay == h || a.relay2 == h) owner = &a;
    });
    if (!owner || owner->isOwnAddress(peer)) return false;
    return relays.isLiveRelay(peer) || snapshot->peers.check(peer).allowed;
  }

  /// REST usernames expire two hours after the start: a clock step far enough
  /// makes every later request an expired credential.
  std::string username(size_t user) const {
    return std::to_string(credentialExpiry) + ":" + kUsers[user % kUsers.size()];
  }
  const int64_t credentialExpiry = clock.unixSeconds() + 7200;
};

/// Remembers the NONCE and RESERVATION-TOKEN of everything sent to clients.
/// TW_FUZZ_TRACE=1 prints each answer (to see what a corpus input reaches).
void learnFromAnswers(World& w) {
  static const bool trace = std::getenv("TW_FUZZ_TRACE") != nullptr;
  w.io->toPeer.clear();  // checked as they were sent (onSendToPeer)
  for (auto& [tuple, bytes] : std::exchange(w.io->toClient, {})) {
    auto m = stun::decode(bytes);
    if (!m) continue;
    if (trace) {
      const auto ec = m->errorCode();
      std::fprintf(stderr, "  %s <- method %u code %d, %zu allocations\n", tuple.client.toString().c_str(),
                   unsigned(m->rawMethod()), ec ? ec->code : 0, w.server->allocations().size());
    }
    if (auto n = m->nonce()) w.nonceOf[tuple] = std::string(*n);
    if (auto t = m->reservationToken()) w.lastToken = *t;
  }
}

SocketAddress pickPeer(World& w, FuzzInput& in) {
  const uint8_t i = in.u8();
  if (i & 0x80) {  // a relayed address of a live allocation, if any
    std::vector<SocketAddress> live;
    w.server->allocations().forEach([&](turn::Allocation& a) { live.push_back(a.relayed); });
    if (!live.empty()) return live[i % live.size()];
  }
  return w.peers[i % w.peers.size()];
}

uint16_t pickChannel(FuzzInput& in) {
  constexpr std::array<uint16_t, 6> kChannels = {0x4000, 0x4001, 0x4FFF, 0x7FFF, 0x3FFF, 0x8000};
  const uint8_t i = in.u8();
  return i < 200 ? kChannels[i % kChannels.size()] : in.u16();
}

void addMethodAttributes(World& w, FuzzInput& in, stun::Method method, stun::MessageBuilder& b) {
  const uint8_t bits = in.u8();
  switch (method) {
    case stun::Method::Allocate:
      if (!(bits & 1)) b.addRequestedTransport(bits & 2 ? in.u8() : 17);
      if (bits & 4) b.addU32(stun::attr::Lifetime, bits & 8 ? in.u32() : 600);
      if (bits & 16) b.addEvenPort(bits & 32);
      if ((bits & 64) && w.lastToken) b.addU64(stun::attr::ReservationToken, *w.lastToken);
      if (bits & 128) b.addAddressFamily(stun::attr::RequestedAddressFamily, in.u8() % 3);
      break;
    case stun::Method::Refresh:
      if (bits & 1) b.addU32(stun::attr::Lifetime, bits & 2 ? 0 : (bits & 4 ? in.u32() : 600));
      break;
    case stun::Method::CreatePermission:
      for (int i = 0; i <= (bits & 3); ++i) b.addXorAddress(stun::attr::XorPeerAddress, pickPeer(w, in));
      break;
    case stun::Method::ChannelBind:
      b.addChannelNumber(pickChannel(in));
      if (!(bits & 1)) b.addXorAddress(stun::attr::XorPeerAddress, pickPeer(w, in));
      break;
    default:
      break;
  }
}

/// A request as a real client would send it: signed with the REST key of one
/// of two users (or a wrong key) and the nonce this client was last given.
void sendRequest(World& w, FuzzInput& in, const FiveTuple& tuple) {
  constexpr std::array<stun::Method, 5> kMethods = {stun::Method::Allocate, stun::Method::Refresh,
                                                    stun::Method::CreatePermission, stun::Method::ChannelBind,
                                                    stun::Method::Binding};
  const uint8_t how = in.u8();
  const stun::Method method = kMethods[how % kMethods.size()];
  stun::TransactionId txid{};
  if ((how & 0x80) && !w.txids.empty()) {
    txid = w.txids[in.u8() % w.txids.size()];  // a retransmission (or a reused id)
  } else {
    w.rng.fill(txid);
    if (w.txids.size() < 16) w.txids.push_back(txid);
  }
  std::vector<uint8_t> out;
  stun::MessageBuilder b(out, method, stun::MessageClass::Request, txid);
  addMethodAttributes(w, in, method, b);
  if (!(how & 0x40) && method != stun::Method::Binding) {
    const std::string name = w.username(how >> 3);
    const bool wrongKey = (how & 0x20) && (in.u8() & 1);
    const auto key =
        stun::longTermKey(name, kRealm, policy::restPassword(wrongKey ? "wrong" : kSecret, name));
    b.addString(stun::attr::Username, name).addString(stun::attr::Realm, kRealm);
    b.addString(stun::attr::Nonce, w.nonceOf.count(tuple) ? w.nonceOf[tuple] : "stale-or-missing-nonce");
    b.addMessageIntegrity(key);
  }
  b.addFingerprint();
  w.server->onClientDatagram(tuple, b.bytes());
}

void sendIndication(World& w, FuzzInput& in, const FiveTuple& tuple) {
  std::vector<uint8_t> out;
  stun::TransactionId txid{};
  w.rng.fill(txid);
  stun::MessageBuilder b(out, stun::Method::Send, stun::MessageClass::Indication, txid);
  b.addXorAddress(stun::attr::XorPeerAddress, pickPeer(w, in));
  b.addBytes(stun::attr::Data, in.chunk(256));
  w.server->onClientDatagram(tuple, b.bytes());
}

void sendChannelData(World& w, FuzzInput& in, const FiveTuple& tuple) {
  std::vector<uint8_t> out;
  stun::encodeChannelData(out, pickChannel(in), in.chunk(256), in.u8() & 1);
  w.server->onClientDatagram(tuple, out);
}

void peerDatagram(World& w, FuzzInput& in) {
  std::vector<uint64_t> ids;
  w.server->allocations().forEach([&](turn::Allocation& a) { ids.push_back(a.id); });
  const uint64_t id = ids.empty() ? in.u64() : ids[in.u8() % ids.size()];
  const SocketAddress peer = pickPeer(w, in);
  w.server->onPeerDatagram(id, peer, in.chunk(512));
}

void step(World& w, FuzzInput& in) {
  const uint8_t op = in.u8();
  const FiveTuple& tuple = w.tuples[(op >> 4) % w.tuples.size()];
  // During this step the kernel refuses the relay ports the fuzzer picks
  // (another process holds them): one, so the server tries another, or all.
  if ((op & 0x08) && in.u8() < 16) {
    const uint16_t mask = in.u16();
    for (size_t i = 0; i < w.relayAddresses.size(); ++i)
      if (mask >> (i % 16) & 1) w.io->failBind[w.relayAddresses[i]] = 98;  // EADDRINUSE
  }
  switch (op & 7) {
    case 0:
      w.server->onClientDatagram(tuple, in.chunk(600));
      break;
    case 1:
    case 2:
      sendRequest(w, in, tuple);
      break;
    case 3:
      sendIndication(w, in, tuple);
      break;
    case 4:
      sendChannelData(w, in, tuple);
      break;
    case 5:
      peerDatagram(w, in);
      break;
    case 6:
      w.clock.advance(std::chrono::seconds(in.u16() % 4000));
      w.server->tick();
      break;
    default:
      w.server->onConnectionClosed(tuple);
      break;
  }
  w.io->failBind.clear();
  learnFromAnswers(w);
}

void checkInvariants(World& w) {
  size_t allocations = 0;
  std::map<std::pair<std::string, IpAddress>, size_t> perUser;  // USERNAME and client IP
  std::map<IpAddress, size_t> perIp;
  const auto& pool = *w.relays.endpoints().front().pool;
  const Instant now = w.clock.now();
  w.server->allocations().forEach([&](turn::Allocation& a) {
    ++allocations;
    ++perUser[{a.username, a.tuple.client.ip}];
    ++perIp[a.tuple.client.ip];
    FUZZ_CHECK(a.relay != turn::kNoRelay && w.io->relays.count(a.relay) == 1);
    FUZZ_CHECK(pool.isLive(a.relayed.port));
    for (const auto& p : a.permissions) {
      if (p.expires <= now) continue;
      const SocketAddress peer{p.peer, p.port};
      FUZZ_CHECK(w.snapshot->peers.check(peer).allowed || p.peer == a.relayed.ip);
    }
  });
  FUZZ_CHECK(w.io->relays.size() == allocations);
  FUZZ_CHECK(w.io->strayCloses == 0);  // no double close, no stranger's handle
  FUZZ_CHECK(pool.inUse() >= allocations);
  auto& quotas = w.server->shared().quotas;
  FUZZ_CHECK(quotas.total() == allocations);
  for (const auto& [key, n] : perUser) FUZZ_CHECK(quotas.forUser(key.first, key.second) == n);
  for (const auto& [ip, n] : perIp) FUZZ_CHECK(quotas.forIp(ip) == n);
  for (const auto& t : w.tuples)  // a client without allocations holds no quota
    if (!perIp.count(t.client.ip)) FUZZ_CHECK(quotas.forIp(t.client.ip) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World w;  // a fresh server per input, so every finding replays on its own
  FuzzInput in(data, size);
  for (int i = 0; i < 64 && !in.empty(); ++i) {
    step(w, in);
    checkInvariants(w);
  }
  return 0;
}
