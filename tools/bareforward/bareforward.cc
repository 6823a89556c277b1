// bareforward: the physical limit scripts/bench compares turnwarden with. A
// UDP relay with no TURN logic at all, shaped like TURN relay-to-relay so
// the kernel work per delivered datagram is the same (two receives, two
// sends through the server):
//
//   client f --(listener)--> relay socket f --> relay socket f^1 --(listener)--> client f^1
//
// A client registers once with "BFREG" + its flow index (2 bytes, big
// endian) and gets "BFOK"; after that every datagram it sends is forwarded.
// Reads use recvmmsg (tw::io::DatagramBatch); sends are gathered over one
// epoll pass and leave with sendmmsg per socket, with UDP GSO for runs of
// same-size datagrams unless --no-gso (tw::io::SendBatch, the same code
// turnwarden uses). Listens on loopback only (scripts/bench).
//
// --threads N: N forwarding threads, each with its own SO_REUSEPORT listener
// and epoll, like turnwarden's workers. A flow's relay socket is read by the
// thread its client registered with (the kernel's hash of the client's
// address picks it), and a pair whose two flows landed on different threads
// crosses between them through the kernel, as in turnwarden.
#include <sys/epoll.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "relay/io/datagram_batch.h"
#include "relay/io/send_batch.h"
#include "relay/io/udp_socket.h"

using namespace tw;

namespace {

std::atomic<bool> stopping{false};
static_assert(std::atomic<bool>::is_always_lock_free);  // stored from a signal handler
void onSignal(int) { stopping = true; }

/// The relay sockets, made before any thread starts and only read after.
struct Relays {
  std::vector<io::UniqueFd> fds;     ///< by flow
  std::vector<SocketAddress> addrs;  ///< by flow
};

struct Options {
  SocketAddress listen;
  size_t flows = 32;
  size_t threads = 1;
  bool gso = true;
};

/// One forwarding thread: its listener, its epoll, the flows registered
/// through its listener.
struct Forwarder {
  const Relays& relays;
  io::UniqueFd listener;
  io::UniqueFd ep{::epoll_create1(EPOLL_CLOEXEC)};
  std::vector<SocketAddress> clients;  ///< by flow; set for this thread's flows
  std::vector<int32_t> flowByPort = std::vector<int32_t>(65536, -1);  ///< loopback clients
  io::DatagramBatch batch;
  std::unique_ptr<io::SendBatch> sends;

  Forwarder(const Relays& r, io::UniqueFd l, bool gso)
      : relays(r),
        listener(std::move(l)),
        clients(r.fds.size()),
        sends(std::make_unique<io::SendBatch>(gso)) {
    watch(listener.get(), clients.size());
  }

  void watch(int fd, size_t key) {
    epoll_event ev{EPOLLIN, {.u64 = key}};
    ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev);  // EEXIST for a flow registered twice: already watched
  }

  static bool isRegistration(std::span<const uint8_t> p) {
    return p.size() == 7 && std::memcmp(p.data(), "BFREG", 5) == 0;
  }

  void registerClient(const SocketAddress& src, std::span<const uint8_t> p) {
    const size_t flow = (size_t{p[5]} << 8) | p[6];
    if (flow >= clients.size()) return;
    clients[flow] = src;
    flowByPort[src.port] = static_cast<int32_t>(flow);
    watch(relays.fds[flow].get(), flow);
    static const uint8_t ok[] = {'B', 'F', 'O', 'K'};
    sends->push(listener.get(), src, std::nullopt, ok);
  }

  void readListener() {
    for (int round = 0; round < 4; ++round) {
      const size_t n = batch.receive(listener.get());
      for (size_t i = 0; i < n; ++i) {
        auto src = batch.source(i);
        if (!src) continue;
        // A new client may reuse an earlier one's port: registration first.
        const int32_t flow = flowByPort[src->port];
        if (isRegistration(batch.payload(i))) {
          registerClient(*src, batch.payload(i));
          continue;
        }
        if (flow < 0 || clients[flow] != *src) continue;
        sends->push(relays.fds[flow].get(), relays.addrs[flow ^ 1], std::nullopt, batch.payload(i));
      }
      if (n < io::DatagramBatch::kBatch) break;
    }
  }

  void readRelay(size_t flow) {
    for (int round = 0; round < 4; ++round) {
      const size_t n = batch.receive(relays.fds[flow].get());
      for (size_t i = 0; i < n; ++i)
        if (clients[flow].port != 0)
          sends->push(listener.get(), clients[flow], std::nullopt, batch.payload(i));
      if (n < io::DatagramBatch::kBatch) break;
    }
  }

  void run() {
    std::array<epoll_event, 256> ready;
    while (!stopping) {
      const int n = ::epoll_wait(ep.get(), ready.data(), static_cast<int>(ready.size()), 200);
      for (int i = 0; i < n; ++i) {
        if (ready[i].data.u64 == clients.size())
          readListener();
        else
          readRelay(ready[i].data.u64);
      }
      sends->flush();
    }
  }
};

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--no-gso")
      o.gso = false;
    else if (k == "--listen" && i + 1 < argc) {
      auto a = SocketAddress::parse(argv[++i]);
      if (!a) return false;
      o.listen = *a;
    } else if (k == "--flows" && i + 1 < argc)
      o.flows = std::stoul(argv[++i]);
    else if (k == "--threads" && i + 1 < argc)
      o.threads = std::stoul(argv[++i]);
    else
      return false;
  }
  return o.listen.port != 0 && o.flows >= 2 && o.flows % 2 == 0 && o.flows <= 65536 && o.threads >= 1 &&
         o.threads <= 64;
}

bool openRelays(const Options& o, Relays& r) {
  for (size_t i = 0; i < o.flows; ++i) {
    auto fd = io::openUdpSocket({o.listen.ip, 0}, false);
    if (!fd) return false;
    r.addrs.push_back(io::localAddress(fd->get()).value());
    r.fds.push_back(std::move(fd.value()));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: bareforward --listen 127.0.0.1:PORT [--flows 32 (even)] [--threads 1] [--no-gso]\n");
    return 64;
  }
  Relays relays;
  if (!openRelays(o, relays)) return 1;
  std::vector<std::unique_ptr<Forwarder>> forwarders;
  for (size_t t = 0; t < o.threads; ++t) {
    auto l = io::openUdpSocket(o.listen, o.threads > 1, io::kListenerBufferBytes);
    if (!l) {
      std::fprintf(stderr, "bareforward: cannot bind %s: %s\n", o.listen.toString().c_str(),
                   std::strerror(l.error()));
      return 1;
    }
    forwarders.push_back(std::make_unique<Forwarder>(relays, std::move(l.value()), o.gso));
  }
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  std::printf("bareforward listening on %s, %zu flows, %zu thread(s), %s\n", o.listen.toString().c_str(),
              o.flows, o.threads, o.gso ? "sendmmsg + GSO" : "sendmmsg");
  std::fflush(stdout);
  std::vector<std::thread> threads;
  for (size_t t = 1; t < forwarders.size(); ++t) threads.emplace_back([&f = *forwarders[t]] { f.run(); });
  forwarders[0]->run();
  for (auto& t : threads) t.join();
  io::SendBatchStats sum{};
  for (size_t t = 0; t < forwarders.size(); ++t) {
    const auto& s = forwarders[t]->sends->stats();
    std::printf("thread %zu datagrams %llu\n", t, static_cast<unsigned long long>(s.datagrams));
    sum.datagrams += s.datagrams, sum.syscalls += s.syscalls, sum.gsoRuns += s.gsoRuns,
        sum.refused += s.refused;
  }
  std::printf("datagrams %llu syscalls %llu gso_runs %llu refused %llu\n",
              static_cast<unsigned long long>(sum.datagrams), static_cast<unsigned long long>(sum.syscalls),
              static_cast<unsigned long long>(sum.gsoRuns), static_cast<unsigned long long>(sum.refused));
  return 0;
}
