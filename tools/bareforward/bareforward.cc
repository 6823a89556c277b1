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
#include <sys/epoll.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "relay/io/datagram_batch.h"
#include "relay/io/send_batch.h"
#include "relay/io/udp_socket.h"

using namespace tw;

namespace {

volatile std::sig_atomic_t stopping = 0;
void onSignal(int) { stopping = 1; }

struct Forwarder {
  io::UniqueFd listener;
  std::vector<io::UniqueFd> relays;
  std::vector<SocketAddress> relayAddrs;
  std::vector<SocketAddress> clients;   ///< by flow
  std::vector<int32_t> flowByPort = std::vector<int32_t>(65536, -1);  ///< loopback clients
  io::DatagramBatch batch;
  std::unique_ptr<io::SendBatch> sends;

  static bool isRegistration(std::span<const uint8_t> p) {
    return p.size() == 7 && std::memcmp(p.data(), "BFREG", 5) == 0;
  }

  void registerClient(const SocketAddress& src, std::span<const uint8_t> p) {
    const size_t flow = (size_t{p[5]} << 8) | p[6];
    if (flow >= clients.size()) return;
    clients[flow] = src;
    flowByPort[src.port] = static_cast<int32_t>(flow);
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
        sends->push(relays[flow].get(), relayAddrs[flow ^ 1], std::nullopt, batch.payload(i));
      }
      if (n < io::DatagramBatch::kBatch) break;
    }
  }

  void readRelay(size_t flow) {
    for (int round = 0; round < 4; ++round) {
      const size_t n = batch.receive(relays[flow].get());
      for (size_t i = 0; i < n; ++i)
        if (clients[flow].port != 0) sends->push(listener.get(), clients[flow], std::nullopt, batch.payload(i));
      if (n < io::DatagramBatch::kBatch) break;
    }
  }
};

bool parse(int argc, char** argv, SocketAddress& listen, size_t& flows, bool& gso) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--no-gso") gso = false;
    else if (k == "--listen" && i + 1 < argc) {
      auto a = SocketAddress::parse(argv[++i]);
      if (!a) return false;
      listen = *a;
    } else if (k == "--flows" && i + 1 < argc) flows = std::stoul(argv[++i]);
    else return false;
  }
  return listen.port != 0 && flows >= 2 && flows % 2 == 0 && flows <= 65536;
}

}  // namespace

int main(int argc, char** argv) {
  SocketAddress listen;
  size_t flows = 32;
  bool gso = true;
  if (!parse(argc, argv, listen, flows, gso)) {
    std::fprintf(stderr, "usage: bareforward --listen 127.0.0.1:PORT [--flows 32 (even)] [--no-gso]\n");
    return 64;
  }
  Forwarder f;
  f.sends = std::make_unique<io::SendBatch>(gso);
  auto l = io::openUdpSocket(listen, false, io::kListenerBufferBytes);
  if (!l) {
    std::fprintf(stderr, "bareforward: cannot bind %s: %s\n", listen.toString().c_str(), std::strerror(l.error()));
    return 1;
  }
  f.listener = std::move(l.value());
  f.clients.resize(flows);
  io::UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  epoll_event ev{EPOLLIN, {.u64 = flows}};
  ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, f.listener.get(), &ev);
  for (size_t i = 0; i < flows; ++i) {
    auto r = io::openUdpSocket({listen.ip, 0}, false);
    if (!r) return 1;
    f.relayAddrs.push_back(io::localAddress(r->get()).value());
    ev = epoll_event{EPOLLIN, {.u64 = i}};
    ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, r->get(), &ev);
    f.relays.push_back(std::move(r.value()));
  }
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  std::printf("bareforward listening on %s, %zu flows, %s\n", listen.toString().c_str(), flows,
              gso ? "sendmmsg + GSO" : "sendmmsg");
  std::fflush(stdout);
  std::array<epoll_event, 256> ready;
  while (!stopping) {
    const int n = ::epoll_wait(ep.get(), ready.data(), static_cast<int>(ready.size()), 200);
    for (int i = 0; i < n; ++i) {
      if (ready[i].data.u64 == flows) f.readListener();
      else f.readRelay(ready[i].data.u64);
    }
    f.sends->flush();
  }
  const auto& s = f.sends->stats();
  std::printf("datagrams %llu syscalls %llu gso_runs %llu refused %llu\n",
              static_cast<unsigned long long>(s.datagrams), static_cast<unsigned long long>(s.syscalls),
              static_cast<unsigned long long>(s.gsoRuns), static_cast<unsigned long long>(s.refused));
  return 0;
}
