#include "tests/support/stun_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>

#include "relay/io/udp_socket.h"
#include "relay/stun/integrity.h"

namespace tw::testing {

StunClient::StunClient(SocketAddress server, Pump pump, SocketAddress local)
    : server_(server), pump_(std::move(pump)) {
  auto fd = io::openUdpSocket(local, false);
  if (fd) fd_ = std::move(fd.value());
  local_ = io::localAddress(fd_.get()).value_or(local);
}

StunClient StunClient::tcp(SocketAddress server, Pump pump, SocketAddress local) {
  StunClient c(server, std::move(pump), local);
  sockaddr_storage ss;
  io::UniqueFd fd(::socket(server.ip.isV4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  socklen_t len = local.toSockaddr(ss);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len);
  len = server.toSockaddr(ss);
  ::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len);
  c.local_ = io::localAddress(fd.get()).value_or(local);
  c.fd_ = std::move(fd);
  c.stream_ = true;
  c.framer_ = std::make_shared<io::StreamFramer>(70000);
  return c;
}

bool StunClient::waitClosed(int timeoutMs) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
  std::vector<uint8_t> buf(65536);
  while (Clock::now() < deadline) {
    if (pump_) pump_();
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, pump_ ? 1 : 20) <= 0) continue;
    const ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
  }
  return false;
}

std::optional<std::vector<uint8_t>> StunClient::receiveFrame(int timeoutMs) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
  std::vector<uint8_t> buf(65536);
  while (frames_.empty() && Clock::now() < deadline) {
    if (pump_) pump_();
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, pump_ ? 1 : 20) <= 0) continue;
    const ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n == 0) return std::nullopt;
    if (n < 0) continue;
    auto st = framer_->feed(std::span(buf.data(), static_cast<size_t>(n)),
                            [&](std::span<const uint8_t> f) { frames_.emplace_back(f.begin(), f.end()); });
    if (!st) return std::nullopt;
  }
  if (frames_.empty()) return std::nullopt;
  auto f = std::move(frames_.front());
  frames_.pop_front();
  return f;
}

void StunClient::send(std::span<const uint8_t> bytes) {
  if (stream_) {
    ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    return;
  }
  sockaddr_storage ss;
  const socklen_t len = server_.toSockaddr(ss);
  ::sendto(fd_.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
}

std::optional<std::vector<uint8_t>> StunClient::receive(int timeoutMs) {
  if (stream_) return receiveFrame(timeoutMs);
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
  std::vector<uint8_t> buf(65536);
  while (Clock::now() < deadline) {
    if (pump_) pump_();
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, pump_ ? 1 : 20) <= 0) continue;
    const ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) continue;
    buf.resize(static_cast<size_t>(n));
    return buf;
  }
  return std::nullopt;
}

std::optional<Reply> StunClient::transact(std::span<const uint8_t> request, int timeoutMs) {
  auto req = stun::decode(request);
  if (!req) return std::nullopt;
  const auto txn = req->transactionId();
  send(request);
  while (auto bytes = receive(timeoutMs)) {
    auto msg = stun::decode(*bytes);
    if (!msg || msg->transactionId() != txn) continue;
    Reply r{std::move(*bytes), 0};
    auto ec = r.msg().errorCode();
    r.code = ec ? ec->code : 0;
    return r;
  }
  return std::nullopt;
}

void StunClient::setCredentials(std::string username, std::string password) {
  auth_.username = std::move(username);
  auth_.password = std::move(password);
}

stun::TransactionId StunClient::newTransactionId() {
  stun::TransactionId t{};
  const uint64_t c = txnCounter_++;
  const uint64_t salt = static_cast<uint64_t>(local_.port) << 40;
  for (int i = 0; i < 8; ++i) t[4 + i] = static_cast<uint8_t>((c ^ salt) >> (8 * i));
  return t;
}

std::vector<uint8_t> StunClient::build(stun::Method method, const stun::TransactionId& txn,
                                       const AddAttrs& add, bool withAuth) {
  return auth_.build(method, txn, add, withAuth);
}

std::optional<Reply> StunClient::request(stun::Method method, const AddAttrs& add) {
  auto reply = transact(build(method, newTransactionId(), add, auth_.ready()));
  if (!reply || !auth_.learn(reply->code, reply->msg())) return reply;
  return transact(build(method, newTransactionId(), add, true));
}

std::optional<Reply> StunClient::allocate(const AddAttrs& extra) {
  return request(stun::Method::Allocate, [&](stun::MessageBuilder& b) {
    b.addRequestedTransport(17);
    if (extra) extra(b);
  });
}

std::optional<Reply> StunClient::allocateTcp(const AddAttrs& extra) {
  return request(stun::Method::Allocate, [&](stun::MessageBuilder& b) {
    b.addRequestedTransport(6);
    if (extra) extra(b);
  });
}

std::optional<Reply> StunClient::connect(const SocketAddress& peer) {
  return request(stun::Method::Connect,
                 [&](stun::MessageBuilder& b) { b.addXorAddress(stun::attr::XorPeerAddress, peer); });
}

std::vector<uint8_t> StunClient::authenticatedRequest(stun::Method method, const AddAttrs& add) {
  return build(method, newTransactionId(), add, true);
}

std::optional<Reply> StunClient::createPermission(const SocketAddress& peer) {
  return request(stun::Method::CreatePermission,
                 [&](stun::MessageBuilder& b) { b.addXorAddress(stun::attr::XorPeerAddress, peer); });
}

std::optional<Reply> StunClient::channelBind(uint16_t channel, const SocketAddress& peer) {
  return request(stun::Method::ChannelBind, [&](stun::MessageBuilder& b) {
    b.addChannelNumber(channel);
    b.addXorAddress(stun::attr::XorPeerAddress, peer);
  });
}

std::optional<Reply> StunClient::refresh(uint32_t lifetime) {
  return request(stun::Method::Refresh,
                 [&](stun::MessageBuilder& b) { b.addU32(stun::attr::Lifetime, lifetime); });
}

void StunClient::sendIndication(const SocketAddress& peer, std::span<const uint8_t> data) {
  std::vector<uint8_t> out;
  stun::MessageBuilder b(out, stun::Method::Send, stun::MessageClass::Indication, newTransactionId());
  b.addXorAddress(stun::attr::XorPeerAddress, peer);
  b.addBytes(stun::attr::Data, data);
  send(b.bytes());
}

}  // namespace tw::testing
