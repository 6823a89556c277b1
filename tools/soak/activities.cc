#include "tools/soak/activities.h"

#include <sys/socket.h>

#include "relay/stun/builder.h"
#include "relay/stun/channel_data.h"

namespace tw::soak {

namespace {
constexpr size_t kPayload = 160;
constexpr size_t kTcpChunk = 4096;

void sendTo(int fd, const SocketAddress& to, std::span<const uint8_t> bytes) {
  sockaddr_storage ss;
  const socklen_t len = to.toSockaddr(ss);
  ::sendto(fd, bytes.data(), bytes.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&ss), len);
}

std::unique_ptr<testing::StunClient> authed(const Target& t, const std::string& user,
                                            const char* local = "127.0.0.1:0") {
  auto c =
      std::make_unique<testing::StunClient>(t.udp, testing::StunClient::Pump{}, *SocketAddress::parse(local));
  auto [name, pass] = t.mint(user);
  c->setCredentials(name, pass);
  return c;
}

/// Bytes readable from `fd` now, at most 64 reads.
uint64_t drainBytes(int fd, std::vector<uint8_t>& buf) {
  uint64_t total = 0;
  for (int i = 0; i < 64; ++i) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n <= 0) break;
    total += static_cast<uint64_t>(n);
  }
  return total;
}
}  // namespace

UdpPeer::UdpPeer() {
  fd = std::move(io::openUdpSocket(*SocketAddress::parse("127.0.0.1:0"), false).value());
  addr = *io::localAddress(fd.get());
}

Session::Session(const Target& t, UdpPeer& peer, int index) : peer_(peer) {
  client_ = authed(t, "soak-steady-" + std::to_string(index));
  auto a = client_->allocate();
  if (!a || a->code != 0 || !a->msg().xorRelayedAddress()) return;
  relayed_ = *a->msg().xorRelayedAddress();
  auto b = client_->channelBind(static_cast<uint16_t>(0x4000 + index), peer.addr);
  ok_ = b && b->code == 0;
  channel_ = static_cast<uint16_t>(0x4000 + index);
}

void Session::send() {
  const std::vector<uint8_t> payload(kPayload, static_cast<uint8_t>(sent_));
  std::vector<uint8_t> cd;
  stun::encodeChannelData(cd, channel_, payload, false);
  client_->send(cd);
  sendTo(peer_.fd.get(), relayed_, payload);
  ++sent_;
}

void Session::receive() {
  std::vector<uint8_t> buf(2048);
  for (int i = 0; i < 64; ++i) {
    const ssize_t n = ::recv(client_->fd(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n <= 0) break;
    if (stun::isChannelData({buf.data(), static_cast<size_t>(n)})) ++received_[1];
  }
}

bool Session::refresh(uint32_t lifetime) {
  receive();  // nothing of ours may be in flight while the client waits for its answer
  ::usleep(2000);
  receive();
  auto r = client_->refresh(lifetime);
  // A channel binding lasts 10 minutes and the permission it installs 5: a real
  // client renews both, or the relay (correctly) stops relaying at 300 s.
  auto b = client_->channelBind(channel_, peer_.addr);
  return r && r->code == 0 && b && b->code == 0;
}

double Session::loss() const {
  if (sent_ == 0) return 1;
  const double expected = 2.0 * static_cast<double>(sent_);
  return (expected - static_cast<double>(received_[0] + received_[1])) / expected;
}

void Churn::step(const Target& t, const SocketAddress& peer, int n) {
  auto c = authed(t, "soak-churn-" + std::to_string(n % 1000));
  auto a = c->allocate();
  auto p = a && a->code == 0 ? c->createPermission(peer) : std::nullopt;
  auto r = p && p->code == 0 ? c->refresh(0) : std::nullopt;
  (r && r->code == 0 ? ok : failed) += 1;
}

BruteForce::BruteForce(const Target& t) {
  client = authed(t, "soak-brute", "127.0.0.3:0");
  client->setCredentials(t.mint("soak-brute").first, "not the password");
  client->allocate();  // learns a nonce: every later try is a failed authentication
}

void BruteForce::step() {
  client->send(client->authenticatedRequest(stun::Method::Allocate,
                                            [](stun::MessageBuilder& b) { b.addRequestedTransport(17); }));
  ++tries;
  std::vector<uint8_t> buf(2048);
  for (int i = 0; i < 64 && ::recv(client->fd(), buf.data(), buf.size(), MSG_DONTWAIT) > 0; ++i)
    ++answered;  // answers to earlier tries; none once banned
}

Scanner::Scanner(const Target& t, const SocketAddress& allowedPeer)
    : target(t), allowed(allowedPeer), client(authed(t, "soak-scan", "127.0.0.5:0")) {
  client->allocate();
}

void Scanner::step() {
  static const std::vector<SocketAddress> denied = {
      *SocketAddress::parse("10.0.0.1:80"),     *SocketAddress::parse("169.254.169.254:80"),
      *SocketAddress::parse("192.168.1.1:443"), *SocketAddress::parse("172.16.0.1:22"),
      *SocketAddress::parse("100.64.0.1:3478"), *SocketAddress::parse("127.0.0.1:22"),
      *SocketAddress::parse("0.0.0.0:3478"),    *SocketAddress::parse("224.0.0.1:5000")};
  const bool wantAllowed = next % (denied.size() + 1) == denied.size();
  const SocketAddress peer = wantAllowed ? allowed : denied[next % (denied.size() + 1)];
  ++next;
  auto r = client->createPermission(peer);
  if (r && r->code == 437) {  // revoked by the scan detector: a scanner starts over
    ++reallocated;
    client->allocate();
    return;
  }
  const int expected = wantAllowed ? 0 : 403;
  if (!r || r->code != expected) return void(++wrong);
  (wantAllowed ? allowedOk : denied_) += 1;
}

Flood::Flood() { fd = std::move(io::openUdpSocket(*SocketAddress::parse("127.0.0.4:0"), false).value()); }

void Flood::step(const SocketAddress& to, int n) {
  static const std::vector<uint8_t> oversize(9000, 0x00);
  std::vector<uint8_t> junk(60);
  for (int i = 0; i < n; ++i, ++sent) {
    for (size_t j = 0; j < junk.size(); ++j) junk[j] = static_cast<uint8_t>(sent * 31 + j * 7);
    junk[0] &= 0x3F;  // looks like STUN, is not
    sendTo(fd.get(), to, sent % 2 ? std::span<const uint8_t>(oversize) : std::span<const uint8_t>(junk));
  }
}

TcpSession::TcpSession(const Target& t, testing::PeerListener& sinks) {
  control_ = std::make_unique<testing::StunClient>(testing::StunClient::tcp(t.tcp));
  auto [name, pass] = t.mint("soak-tcp");
  control_->setCredentials(name, pass);
  auto a = control_->allocateTcp();
  auto c = a && a->code == 0 ? control_->connect(sinks.addr) : std::nullopt;
  if (!c || c->code != 0 || !c->msg().connectionId()) return;
  peerAddr_ = sinks.addr;
  auto sink = sinks.accept({}, nullptr, 2000);
  if (!sink) return;
  sink_ = std::move(*sink);
  data_ = testing::RawTcp::connectTo(t.tcp);
  data_.send(control_->authenticatedRequest(stun::Method::ConnectionBind, [&](stun::MessageBuilder& b) {
    b.addU32(stun::attr::ConnectionId, *c->msg().connectionId());
  }));
  std::vector<uint8_t> storage;
  auto r = data_.readStun(storage);
  ok_ = r && r->messageClass() == stun::MessageClass::SuccessResponse;
}

void TcpSession::step() {
  static const std::vector<uint8_t> chunk(kTcpChunk, 0x5A);
  const int fds[2] = {data_.fd.get(), sink_.fd.get()};
  for (int d = 0; d < 2; ++d) {
    const ssize_t n = ::send(fds[d], chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) sent_[d] += static_cast<uint64_t>(n);
  }
  drain();
}

void TcpSession::drain() {
  std::vector<uint8_t> buf(65536);
  received_[0] += drainBytes(sink_.fd.get(), buf);
  received_[1] += drainBytes(data_.fd.get(), buf);
}

bool TcpSession::refresh() {
  auto r = control_->refresh(600);
  auto p = control_->createPermission(peerAddr_);  // permissions last 5 minutes
  return r && r->code == 0 && p && p->code == 0;
}

}  // namespace tw::soak
