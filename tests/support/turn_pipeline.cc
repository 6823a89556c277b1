#include "tests/support/turn_pipeline.h"

#include <stdexcept>

#include "policy/credentials.h"
#include "policy/peer_rules.h"

namespace tw::testing {

namespace {
std::string pipelineYaml(const std::string& extra, const std::string& listeners) {
  return std::string("realm: ") + Pipeline::kRealm +
         "\nlisteners:\n  - {transport: udp, address: 198.51.100.1, port: 3478}\n" + listeners +
         "relay:\n  addresses: [192.0.2.1]\n  tcp: true\n  port_range: " +
         std::to_string(Pipeline::kFirstPort) + "-" + std::to_string(Pipeline::kLastPort) +
         "\nauth:\n  secrets:\n    - {id: k1, value: \"" + Pipeline::kSecret + "\"}\n" + extra;
}

PipelineReply toReply(std::vector<uint8_t> bytes) {
  PipelineReply r{std::move(bytes), -1};
  auto m = stun::decode(r.bytes);
  if (!m) return r;
  auto ec = m->errorCode();
  r.code = ec ? ec->code : 0;
  return r;
}
}  // namespace

policy::Config pipelineConfig(const std::string& extraYaml, const std::string& extraListeners) {
  auto parsed = policy::parseConfig(pipelineYaml(extraYaml, extraListeners), "pipeline.yaml");
  // Test set-up only: a bad fixture is a bug in the test, not a data path.
  if (!parsed) throw std::runtime_error(policy::formatErrors(parsed.error()));
  return parsed.value();
}

Pipeline::Pipeline(const std::string& extraYaml, uint64_t seed, const std::string& extraListeners)
    : rng(seed), extraListeners_(extraListeners) {
  config = pipelineConfig(extraYaml, extraListeners_);
  std::array<uint8_t, 32> key{};
  rng.fill(key);
  nonces = std::make_unique<policy::NonceService>(key, config.auth.nonceLifetime);
  relays.add(config.relay.addresses[0], config.relay.addresses[0], config.relay.portMin,
             config.relay.portMax);
  policy = policy::buildSnapshot(config, generation_, {listener});
  server =
      std::make_unique<turn::TurnServer>(turn::ServerDeps{clock, rng, io, events, relays, *nonces}, policy);
}

Pipeline::~Pipeline() { server.reset(); }

FiveTuple Pipeline::tuple(const std::string& client, Transport t) const {
  return FiveTuple{*SocketAddress::parse(client), listener, t};
}

std::vector<FakeIoPort::ToClient> Pipeline::feed(const FiveTuple& t, std::span<const uint8_t> bytes) {
  io.toClient.clear();
  server->onClientDatagram(t, bytes);
  return std::move(io.toClient);
}

std::optional<PipelineReply> Pipeline::exchange(const FiveTuple& t, std::span<const uint8_t> bytes) {
  auto sent = feed(t, bytes);
  for (auto& s : sent)
    if (s.tuple == t) return toReply(std::move(s.bytes));
  return std::nullopt;
}

void Pipeline::advance(Duration d) {
  clock.advance(d);
  server->tick();
}

void Pipeline::reload(const std::string& extraYaml) {
  config = pipelineConfig(extraYaml, extraListeners_);
  policy = policy::buildSnapshot(config, ++generation_, selfAddresses());
  server->setPolicy(policy);
}

std::vector<SocketAddress> Pipeline::selfAddresses() const {
  std::vector<IpAddress> external;
  if (config.relay.externalAddress) external.push_back(*config.relay.externalAddress);
  return policy::withExternalSelf({listener}, external);
}

void Pipeline::useExternal(const IpAddress& ext) {
  config.relay.externalAddress = ext;
  relays.endpoints()[0].advertised = ext;
  policy = policy::buildSnapshot(config, ++generation_, selfAddresses());
  server->setPolicy(policy);
}

std::pair<std::string, std::string> Pipeline::credential(const std::string& user, int64_t ttl) const {
  std::string name = std::to_string(clock.unixSeconds() + ttl) + ":" + user;
  return {name, policy::restPassword(kSecret, name)};
}

PipelineClient PipelineClient::authed(Pipeline& p, const std::string& user, const std::string& from,
                                      Transport t) {
  PipelineClient c(p, p.tuple(from, t));
  auto [name, pass] = p.credential(user);
  c.setCredentials(name, pass);
  return c;
}

void PipelineClient::setCredentials(std::string username, std::string password) {
  auth_.username = std::move(username);
  auth_.password = std::move(password);
}

stun::TransactionId PipelineClient::newTransactionId() {
  stun::TransactionId t{};
  const uint64_t n = txnCounter_++;
  for (size_t i = 0; i < 8; ++i) t[i] = static_cast<uint8_t>(n >> (8 * i));
  t[8] = static_cast<uint8_t>(tuple_.client.port);
  t[9] = static_cast<uint8_t>(tuple_.client.port >> 8);
  return t;
}

std::vector<uint8_t> PipelineClient::build(stun::Method m, const AddAttrs& add, bool auth,
                                           const stun::TransactionId* txn) {
  return auth_.build(m, txn ? *txn : newTransactionId(), add, auth);
}

std::optional<PipelineReply> PipelineClient::request(stun::Method m, const AddAttrs& add) {
  auto reply = p_.exchange(tuple_, build(m, add, auth_.ready()));
  if (!reply || !auth_.learn(reply->code, reply->msg())) return reply;
  return p_.exchange(tuple_, build(m, add, true));
}

std::optional<PipelineReply> PipelineClient::allocate(const AddAttrs& extra, uint8_t transport) {
  return request(stun::Method::Allocate, [&](stun::MessageBuilder& b) {
    b.addRequestedTransport(transport);
    if (extra) extra(b);
  });
}

std::optional<PipelineReply> PipelineClient::refresh(uint32_t lifetime) {
  return request(stun::Method::Refresh,
                 [&](stun::MessageBuilder& b) { b.addU32(stun::attr::Lifetime, lifetime); });
}

std::optional<PipelineReply> PipelineClient::createPermission(const SocketAddress& peer) {
  return request(stun::Method::CreatePermission,
                 [&](stun::MessageBuilder& b) { b.addXorAddress(stun::attr::XorPeerAddress, peer); });
}

std::optional<PipelineReply> PipelineClient::channelBind(uint16_t channel, const SocketAddress& peer) {
  return request(stun::Method::ChannelBind, [&](stun::MessageBuilder& b) {
    b.addChannelNumber(channel);
    b.addXorAddress(stun::attr::XorPeerAddress, peer);
  });
}

}  // namespace tw::testing
