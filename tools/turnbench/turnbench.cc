// turnbench: a TURN load generator for scripts/bench. It builds N pairs of
// allocations on one server and relays ChannelData between the two relayed
// addresses of each pair (relay-to-relay, the common WebRTC case), with a
// bounded number of packets in flight per pair. It reports delivered
// packets per second, loss and the amplification of unauthenticated answers,
// so the same run can be pointed at turnwarden and at coturn.
//
// Traffic goes only to the --server address, which scripts/bench sets to
// loopback. The run is bounded by --seconds.
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "policy/credentials.h"
#include "relay/stun/channel_data.h"
#include "tests/support/stun_client.h"
#include "tools/turnbench/tcp_relay.h"

using namespace tw;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  SocketAddress server;
  std::string secret;
  int pairs = 8;
  double seconds = 5;
  size_t size = 200;
  int window = 32;
  int tcpStreams = 0;  ///< > 0: also benchmark TCP relay (RFC 6062) with this many streams
};

struct Leg {
  std::unique_ptr<testing::StunClient> client;
  SocketAddress relayed;
  uint64_t sent = 0, received = 0;
  uint64_t writtenOff = 0;  // packets of this leg's flow given up as lost
  Clock::time_point lastProgress = Clock::now();
  uint64_t lastReceived = 0;
};

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--server") {
      auto a = SocketAddress::parse(v);
      if (!a) return false;
      o.server = *a;
    } else if (k == "--secret") o.secret = v;
    else if (k == "--pairs") o.pairs = std::stoi(v);
    else if (k == "--seconds") o.seconds = std::stod(v);
    else if (k == "--size") o.size = std::stoul(v);
    else if (k == "--window") o.window = std::stoi(v);
    else if (k == "--tcp-streams") o.tcpStreams = std::stoi(v);
    else return false;
  }
  return !o.secret.empty() && o.server.port != 0 && o.pairs > 0 && o.seconds > 0 && o.seconds <= 120;
}

bool setUp(const Options& o, std::vector<Leg>& legs) {
  for (int i = 0; i < 2 * o.pairs; ++i) {
    // One REST user per leg: quotas.per_user (default 10) must not cap the run.
    const std::string user = std::to_string(std::time(nullptr) + 3600) + ":bench" + std::to_string(i);
    Leg leg;
    leg.client = std::make_unique<testing::StunClient>(o.server);
    leg.client->setCredentials(user, policy::restPassword(o.secret, user));
    auto r = leg.client->allocate();
    if (!r || r->code != 0 || !r->msg().xorRelayedAddress()) return false;
    leg.relayed = *r->msg().xorRelayedAddress();
    legs.push_back(std::move(leg));
  }
  for (size_t i = 0; i < legs.size(); ++i) {
    const Leg& other = legs[i ^ 1];
    auto r = legs[i].client->channelBind(0x4000, other.relayed);
    if (!r || r->code != 0) return false;
  }
  return true;
}

/// Bytes of the first answer to `request` (0 when none came).
size_t answerSize(const SocketAddress& server, std::span<const uint8_t> request) {
  testing::StunClient c(server);
  auto r = c.transact(request, 1000);
  return r ? r->bytes.size() : 0;
}

void amplification(const Options& o) {
  testing::StunClient c(o.server);
  std::vector<uint8_t> b;
  {
    stun::MessageBuilder m(b, stun::Method::Binding, stun::MessageClass::Request, c.newTransactionId());
    const size_t got = answerSize(o.server, m.bytes());
    std::printf("amplification_binding %.2f (%zu -> %zu bytes)\n", double(got) / m.bytes().size(),
                m.bytes().size(), got);
  }
  stun::MessageBuilder m(b, stun::Method::Allocate, stun::MessageClass::Request, c.newTransactionId());
  m.addRequestedTransport(17);
  const size_t got = answerSize(o.server, m.bytes());
  std::printf("amplification_401 %.2f (%zu -> %zu bytes)\n", double(got) / m.bytes().size(),
              m.bytes().size(), got);
}

void drain(Leg& leg, std::vector<uint8_t>& buf) {
  for (;;) {
    const ssize_t n = ::recv(leg.client->fd(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n <= 0) return;
    if (stun::isChannelData({buf.data(), static_cast<size_t>(n)})) ++leg.received;
  }
}

void run(const Options& o, std::vector<Leg>& legs) {
  std::vector<uint8_t> payload(o.size, 0xAB), frame, buf(65536);
  stun::encodeChannelData(frame, 0x4000, payload, false);
  std::vector<pollfd> fds;
  for (auto& l : legs) fds.push_back(pollfd{l.client->fd(), POLLIN, 0});
  const auto end = Clock::now() + std::chrono::duration<double>(o.seconds);
  while (Clock::now() < end) {
    for (size_t i = 0; i < legs.size(); ++i) {
      Leg& from = legs[i];
      Leg& to = legs[i ^ 1];
      // A lost packet would hold its window slot forever: after 100 ms
      // without progress, write the outstanding ones off.
      if (to.received != to.lastReceived) {
        to.lastReceived = to.received;
        to.lastProgress = Clock::now();
      } else if (Clock::now() - to.lastProgress > std::chrono::milliseconds(100)) {
        from.writtenOff = from.sent - to.received;
        to.lastProgress = Clock::now();
      }
      while (from.sent - to.received - from.writtenOff < static_cast<uint64_t>(o.window)) {
        from.client->send(frame);
        ++from.sent;
      }
    }
    ::poll(fds.data(), fds.size(), 5);
    for (auto& l : legs) drain(l, buf);
  }
  const auto settle = Clock::now() + std::chrono::milliseconds(300);
  while (Clock::now() < settle) {
    ::poll(fds.data(), fds.size(), 5);
    for (auto& l : legs) drain(l, buf);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: turnbench --server 127.0.0.1:PORT --secret S [--pairs 8] [--seconds 5] "
                 "[--size 200] [--window 32] [--tcp-streams 0]\n");
    return 64;
  }
  amplification(o);
  std::vector<Leg> legs;
  if (!setUp(o, legs)) {
    std::fprintf(stderr, "turnbench: allocation or channel bind failed\n");
    return 1;
  }
  run(o, legs);
  uint64_t sent = 0, received = 0;
  for (const auto& l : legs) sent += l.sent, received += l.received;
  std::printf("relayed_packets_per_second %.0f\n", received / o.seconds);
  std::printf("relayed_megabits_per_second %.1f\n", received * o.size * 8 / o.seconds / 1e6);
  std::printf("loss_percent %.3f\n", sent ? 100.0 * double(sent - received) / double(sent) : 0.0);
  if (o.tcpStreams > 0) {
    const double mbps = bench::runTcpRelay({o.server, o.secret, o.tcpStreams, o.seconds});
    if (mbps < 0) {
      std::fprintf(stderr, "turnbench: TCP relay set-up failed\n");
      return 1;
    }
    std::printf("tcp_relay_megabits_per_second %.1f\n", mbps);
  }
  return 0;
}
