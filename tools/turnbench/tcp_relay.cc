#include "tools/turnbench/tcp_relay.h"

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <vector>

#include "policy/credentials.h"
#include "tests/support/raw_tcp.h"
#include "tests/support/stun_client.h"

namespace tw::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Stream {
  std::unique_ptr<testing::StunClient> control;
  testing::RawTcp data;
  testing::RawTcp sink;
  uint64_t received = 0;
};

/// Allocate TCP, Connect to `sinks`, accept there, ConnectionBind a data
/// connection. false when any step fails (e.g. the server has no TCP relay).
bool setUp(const TcpRelayOptions& o, int i, testing::PeerListener& sinks, Stream& s) {
  const std::string user = std::to_string(std::time(nullptr) + 3600) + ":tcpbench" + std::to_string(i);
  s.control = std::make_unique<testing::StunClient>(testing::StunClient::tcp(o.server));
  s.control->setCredentials(user, policy::restPassword(o.secret, user));
  auto a = s.control->allocateTcp();
  if (!a || a->code != 0) return false;
  auto c = s.control->connect(sinks.addr);
  if (!c || c->code != 0 || !c->msg().connectionId()) return false;
  auto sink = sinks.accept({}, nullptr, 2000);
  if (!sink) return false;
  s.sink = std::move(*sink);
  s.data = testing::RawTcp::connectTo(o.server);
  s.data.send(s.control->authenticatedRequest(stun::Method::ConnectionBind, [&](stun::MessageBuilder& b) {
    b.addU32(stun::attr::ConnectionId, *c->msg().connectionId());
  }));
  std::vector<uint8_t> storage;
  auto r = s.data.readStun(storage);
  return r && r->messageClass() == stun::MessageClass::SuccessResponse;
}

void pump(std::vector<Stream>& streams, std::vector<uint8_t>& chunk, std::vector<uint8_t>& buf) {
  std::vector<pollfd> fds;
  for (auto& s : streams) {
    fds.push_back({s.data.fd.get(), POLLOUT, 0});
    fds.push_back({s.sink.fd.get(), POLLIN, 0});
  }
  ::poll(fds.data(), fds.size(), 5);
  for (auto& s : streams) {
    // Fill the socket until the kernel pushes back (bounded per round), so
    // the generator is not what limits the relay.
    for (int i = 0; i < 16; ++i)
      if (::send(s.data.fd.get(), chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL) <= 0) break;
    for (;;) {
      const ssize_t n = ::recv(s.sink.fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n <= 0) break;
      s.received += static_cast<uint64_t>(n);
    }
  }
}

}  // namespace

double runTcpRelay(const TcpRelayOptions& o) {
  testing::PeerListener sinks("127.0.0.1:0");
  std::vector<Stream> streams(static_cast<size_t>(o.streams));
  for (int i = 0; i < o.streams; ++i)
    if (!setUp(o, i, sinks, streams[static_cast<size_t>(i)])) return -1;
  std::vector<uint8_t> chunk(65536, 0x5A), buf(262144);
  const auto end = Clock::now() + std::chrono::duration<double>(o.seconds);
  while (Clock::now() < end) pump(streams, chunk, buf);
  uint64_t total = 0;
  for (const auto& s : streams) total += s.received;
  return double(total) * 8 / o.seconds / 1e6;
}

}  // namespace tw::bench
