// turnbench: a TURN load generator for scripts/bench. It builds N pairs of
// allocations on one server and relays ChannelData between the two relayed
// addresses of each pair (relay-to-relay, the common WebRTC case), with a
// bounded number of packets in flight per pair. It reports delivered
// packets per second, loss and the amplification of unauthenticated answers,
// so the same run can be pointed at turnwarden and at coturn.
//
// Paced modes (--rate, --search) send at a fixed rate instead (load.h) and
// measure loss, latency and, with --server-pid, the server's CPU per
// relayed packet and RSS per idle allocation (procstat.h). --bare drives
// tools/bareforward instead of a TURN server.
//
// Traffic goes only to the --server address, which scripts/bench sets to
// loopback. Every run is bounded by --seconds (and the search by its probes).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "policy/credentials.h"
#include "relay/stun/channel_data.h"
#include "tests/support/http_client.h"
#include "tests/support/stun_client.h"
#include "tools/turnbench/alloc_rate.h"
#include "tools/turnbench/load.h"
#include "tools/turnbench/procstat.h"
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
  bool bare = false;   ///< the server is tools/bareforward (no TURN)
  double rate = 0;     ///< > 0: paced load at this many datagrams/s (all legs)
  double search = 0;   ///< > 0: find the lossless rate below this ceiling
  bool latency = false;
  pid_t serverPid = 0;         ///< > 0: read the server's CPU and RSS from /proc
  int idle = 0;                ///< extra allocations that stay idle (RSS, scale)
  bool idleClose = false;      ///< close the idle clients' sockets while the load runs (scale)
  int allocations = 0;         ///< > 0: time this many authenticated allocations
  int inFlight = 32;           ///< clients mid-exchange at once in the allocations figure
  int spinUs = 0;              ///< allocations figure: poll this long before sleeping
  bool manyAddresses = false;  ///< allocations figure: --client-addresses many
  SocketAddress metrics;       ///< port != 0: time GET /metrics once everything is set up
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
    } else if (k == "--secret")
      o.secret = v;
    else if (k == "--pairs")
      o.pairs = std::stoi(v);
    else if (k == "--seconds")
      o.seconds = std::stod(v);
    else if (k == "--size")
      o.size = std::stoul(v);
    else if (k == "--window")
      o.window = std::stoi(v);
    else if (k == "--tcp-streams")
      o.tcpStreams = std::stoi(v);
    else if (k == "--bare")
      o.bare = v == "1";
    else if (k == "--rate")
      o.rate = std::stod(v);
    else if (k == "--search")
      o.search = std::stod(v);
    else if (k == "--latency")
      o.latency = v == "1";
    else if (k == "--server-pid")
      o.serverPid = std::stoi(v);
    else if (k == "--idle")
      o.idle = std::stoi(v);
    else if (k == "--idle-close")
      o.idleClose = v == "1";
    else if (k == "--allocations")
      o.allocations = std::stoi(v);
    else if (k == "--spin-us")
      o.spinUs = std::stoi(v);
    else if (k == "--client-addresses")
      o.manyAddresses = v == "many";
    else if (k == "--in-flight")
      o.inFlight = std::stoi(v);
    else if (k == "--metrics") {
      auto a = SocketAddress::parse(v);
      if (!a) return false;
      o.metrics = *a;
    } else
      return false;
  }
  if (o.bare) return o.server.port != 0 && o.pairs > 0 && o.seconds > 0 && o.seconds <= 120;
  return !o.secret.empty() && o.server.port != 0 && o.pairs > 0 && o.seconds > 0 && o.seconds <= 120;
}

/// Bare mode: each leg registers its flow index with tools/bareforward.
bool setUpBare(const Options& o, std::vector<Leg>& legs) {
  for (int i = 0; i < 2 * o.pairs; ++i) {
    Leg leg;
    leg.client = std::make_unique<testing::StunClient>(o.server);
    const uint8_t reg[] = {'B', 'F', 'R', 'E', 'G', static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
    leg.client->send(reg);
    auto ok = leg.client->receive(2000);
    if (!ok || ok->size() != 4) return false;
    legs.push_back(std::move(leg));
  }
  return true;
}

/// What a failed request got, for the error message.
std::string outcome(const std::optional<testing::Reply>& r) {
  if (!r) return "no answer";
  if (r->code != 0) return "error " + std::to_string(r->code);
  return "no relayed address";
}

/// A client with a fresh allocation for `user` (the reply in `r`). The
/// kernel reuses the local ports of closed sockets; when the server still
/// holds an allocation on such a 5-tuple (one an earlier run did not, or could
/// not, release), it answers 437 Allocation Mismatch, and a real client
/// retries from a new 5-tuple (RFC 8656 §7.2), so this does too (at most 4
/// times). The stale sockets are kept open until then, so the kernel cannot
/// hand out the same port again.
std::unique_ptr<testing::StunClient> allocateFresh(const Options& o, const std::string& user,
                                                   std::optional<testing::Reply>& r) {
  std::vector<std::unique_ptr<testing::StunClient>> stale;
  for (;;) {
    auto c = std::make_unique<testing::StunClient>(o.server);
    c->setCredentials(user, policy::restPassword(o.secret, user));
    r = c->allocate();
    if (!r || r->code != 437 || stale.size() == 3) return c;
    stale.push_back(std::move(c));
  }
}

bool setUp(const Options& o, std::vector<Leg>& legs) {
  if (o.bare) return setUpBare(o, legs);
  for (int i = 0; i < 2 * o.pairs; ++i) {
    // One REST user per leg: quotas.per_user (default 10) must not cap the run.
    const std::string user = bench::restUser("bench" + std::to_string(i));
    Leg leg;
    std::optional<testing::Reply> r;
    leg.client = allocateFresh(o, user, r);
    if (!r || r->code != 0 || !r->msg().xorRelayedAddress()) {
      std::fprintf(stderr, "turnbench: allocation %d of %d: %s\n", i, 2 * o.pairs, outcome(r).c_str());
      return false;
    }
    leg.relayed = *r->msg().xorRelayedAddress();
    legs.push_back(std::move(leg));
  }
  for (size_t i = 0; i < legs.size(); ++i) {
    const Leg& other = legs[i ^ 1];
    auto r = legs[i].client->channelBind(0x4000, other.relayed);
    if (!r || r->code != 0) {
      std::fprintf(stderr, "turnbench: channel bind %zu: %s\n", i, outcome(r).c_str());
      return false;
    }
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
  std::printf("amplification_401 %.2f (%zu -> %zu bytes)\n", double(got) / m.bytes().size(), m.bytes().size(),
              got);
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

/// `n` allocations that carry no traffic; prints the server's RSS growth per
/// allocation when its pid is known.
std::vector<std::unique_ptr<testing::StunClient>> idleAllocations(const Options& o) {
  std::vector<std::unique_ptr<testing::StunClient>> held;
  const auto before = o.serverPid ? bench::rssBytes(o.serverPid) : std::nullopt;
  for (int i = 0; i < o.idle; ++i) {
    std::optional<testing::Reply> r;
    auto c = allocateFresh(o, bench::restUser("idle" + std::to_string(i)), r);
    if (!r || r->code != 0) {
      std::fprintf(stderr, "turnbench: idle allocation %d failed: %s\n", i, outcome(r).c_str());
      break;
    }
    held.push_back(std::move(c));
  }
  std::printf("idle_allocations %zu\n", held.size());
  const auto after = o.serverPid ? bench::rssBytes(o.serverPid) : std::nullopt;
  if (before && after && !held.empty())
    std::printf("rss_bytes_per_idle_allocation %.0f\n", (*after - *before) / double(held.size()));
  return held;
}

/// An idle client whose socket was closed: enough to release its
/// allocation later from the same 5-tuple.
struct ClosedClient {
  std::string user;
  SocketAddress local;
};

/// Closes the idle clients' sockets (their allocations stay on the server).
/// The scale figure measures the server with 9,500 allocations; the 8,500
/// idle clients would be on other hosts, but on loopback their sockets sit
/// in this kernel's UDP hash table next to the server's relay sockets, and
/// the server pays for the longer chains on every loopback delivery.
std::vector<ClosedClient> closeClients(std::vector<std::unique_ptr<testing::StunClient>>& idle) {
  std::vector<ClosedClient> out;
  out.reserve(idle.size());
  for (auto& c : idle) out.push_back(ClosedClient{c->username(), c->local()});
  idle.clear();
  return out;
}

/// Binds each closed client's local address again and releases its
/// allocation (Refresh 0, answering the 438 for the old nonce).
void releaseClosed(const Options& o, const std::vector<ClosedClient>& closed) {
  size_t failed = 0;
  for (const auto& c : closed) {
    testing::StunClient client(o.server, {}, c.local);
    client.setCredentials(c.user, policy::restPassword(o.secret, c.user));
    auto r = client.refresh(0);
    if (!r || r->code != 0) ++failed;
  }
  if (failed) std::fprintf(stderr, "turnbench: %zu closed idle allocations not released\n", failed);
}

/// Closed-loop load (the overload figure), then the TCP relay if asked.
int runClosedLoop(const Options& o, std::vector<Leg>& legs) {
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

void timeMetrics(const Options& o) {
  const auto start = Clock::now();
  auto r = testing::httpGet(o.metrics, "/metrics");
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  std::printf("metrics_ms %.1f (%s)\n", ms, r ? "answered" : "no answer");
}

/// Paced load (or the lossless search); CPU per packet from /proc when the
/// server's pid is known.
void runPaced(const Options& o, const std::vector<Leg>& legs) {
  std::vector<int> fds;
  for (const auto& l : legs) fds.push_back(l.client->fd());
  bench::LoadOptions lo{o.rate, o.seconds, o.size, o.latency};
  if (o.search > 0) {
    std::printf("lossless_pps %.0f\n", bench::findLossless(o.server, fds, lo, o.search, 0.1));
    return;
  }
  // Markers for a profiler scripts/bench attaches to the server meanwhile.
  std::printf("traffic_start\n");
  std::fflush(stdout);
  auto cpuNow = [&] {
    return o.serverPid ? bench::cpuSeconds(o.serverPid).value_or(bench::CpuTimes{}) : bench::CpuTimes{};
  };
  const bench::CpuTimes cpu0 = cpuNow();
  const auto r = bench::runLoad(o.server, fds, lo);
  const bench::CpuTimes cpu1 = cpuNow();
  std::printf("traffic_end\n");
  std::printf("received_packets %llu\n", static_cast<unsigned long long>(r.received));
  std::printf("offered_pps %.0f\n", r.sent / o.seconds);
  std::printf("relayed_packets_per_second %.0f\n", r.receivedInWindow / o.seconds);
  std::printf("loss_percent %.3f\n", r.lossPercent());
  if (o.latency) std::printf("rtt_p50_us %.0f\nrtt_p99_us %.0f\n", r.latency(0.5), r.latency(0.99));
  if (o.serverPid && r.received > 0) {
    const double n = double(r.received);
    std::printf("server_cpu_us_per_packet %.2f\n", (cpu1.total() - cpu0.total()) * 1e6 / n);
    std::printf("server_user_us_per_packet %.2f\n", (cpu1.user - cpu0.user) * 1e6 / n);
    std::printf("server_system_us_per_packet %.2f\n", (cpu1.system - cpu0.system) * 1e6 / n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: turnbench --server 127.0.0.1:PORT --secret S [--pairs 8] [--seconds 5] "
                 "[--size 200] [--window 32] [--tcp-streams 0] [--bare 1] [--rate PPS | --search MAXPPS]\n"
                 "       [--latency 1] [--server-pid PID] [--idle N [--idle-close 1]] [--allocations N "
                 "[--in-flight 32] [--spin-us 0] [--client-addresses one|many]] [--metrics ADDR]\n");
    return 64;
  }
  if (o.allocations > 0) {
    const auto r = bench::measureAllocationRate(bench::AllocRateOptions{
        o.server, o.secret, o.allocations, o.inFlight, o.serverPid, o.spinUs, o.manyAddresses});
    bench::printAllocationRate(r, o.allocations);
    return 0;
  }
  const bool paced = o.rate > 0 || o.search > 0;
  if (!paced && !o.bare) amplification(o);
  std::vector<Leg> legs;
  std::vector<std::unique_ptr<testing::StunClient>> idle;
  std::vector<ClosedClient> closed;
  int rc = 1;
  if (!setUp(o, legs)) {
    std::fprintf(stderr, "turnbench: allocation or channel bind failed\n");
  } else {
    idle = idleAllocations(o);
    if (o.idleClose) closed = closeClients(idle);
    if (o.metrics.port != 0) timeMetrics(o);
    rc = paced ? (runPaced(o, legs), 0) : runClosedLoop(o, legs);
  }
  // Free the server's relay ports (and 5-tuples) for the next figure of the
  // same run, whatever happened: allocations left behind would make the next
  // figure's clients, on recycled local ports, meet 437 Allocation Mismatch.
  if (!o.bare) {
    for (auto& l : legs) l.client->refresh(0);
    for (auto& c : idle) c->refresh(0);
    releaseClosed(o, closed);
  }
  return rc;
}
