// soak: everything at once against one turnwarden (scripts/soak, issue 10):
// steady relaying from real allocations, allocation churn, a brute-force
// source, a scanner walking denied and allowed peers, malformed and
// oversize floods, a reload every 5 s, a secret rotation every 30 s and a
// TCP relay session pumping data. It samples the server's RSS and open
// descriptors every second, and writes the verdict to --out as JSON.
//
// All traffic goes to loopback; the run and every loop are bounded.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "policy/credentials.h"
#include "policy/secrets_file.h"
#include "tests/support/server_process.h"
#include "tools/soak/activities.h"

using namespace tw;
using namespace tw::soak;

namespace {

constexpr int kSessions = 4;
constexpr double kMaxLoss = 0.001;

struct Sample {
  double t;
  long rssKb;
  long fds;
};

struct Options {
  double minutes = 10;
  std::string out = "soak.json";
};

std::string config(uint16_t udp, uint16_t tcp, uint16_t peer, uint16_t sink) {
  auto allow = [](uint16_t p) { return "{range: 127.0.0.1/32, ports: " + std::to_string(p) + "}"; };
  return "realm: soak.test\nlisteners:\n"
         "  - {transport: udp, address: 127.0.0.1, port: " +
         std::to_string(udp) +
         "}\n"
         "  - {transport: tcp, address: 127.0.0.1, port: " +
         std::to_string(tcp) +
         "}\n"
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 43000-43999\n  tcp: true\n"
         "auth:\n  secrets_file: secrets.yaml\n  rotation: {interval: 7d, grace: 25h}\n"
         "peers:\n  allowed: [" +
         allow(peer) + ", " + allow(sink) + "]\n";
}

Sample sample(pid_t pid, double t) {
  Sample s{t, -1, 0};
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) s.rssKb = std::stol(line.substr(6));
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); ++it)
    ++s.fds;
  return s;
}

/// Largest value of `f` over samples with t in [from, to).
long peak(const std::vector<Sample>& s, double from, double to, long Sample::*f) {
  long m = -1;
  for (const auto& x : s)
    if (x.t >= from && x.t < to) m = std::max(m, x.*f);
  return m;
}

struct Flatness {
  long rssBase, rssEnd, fdBase, fdEnd;
  bool ok() const { return rssEnd <= rssBase + std::max(8192L, rssBase / 10) && fdEnd <= fdBase + 16; }
};

/// After a warm-up, the peak of the last third may not exceed the peak of
/// the first third by more than 8 MiB (or 10%) of RSS or 16 descriptors.
Flatness flatness(const std::vector<Sample>& s, double seconds) {
  const double warm = std::min(30.0, seconds / 4), third = (seconds - warm) / 3;
  return {peak(s, warm, warm + third, &Sample::rssKb), peak(s, seconds - third, seconds + 1, &Sample::rssKb),
          peak(s, warm, warm + third, &Sample::fds), peak(s, seconds - third, seconds + 1, &Sample::fds)};
}

Minter minter(const std::string& secretsPath) {
  return [secretsPath](const std::string& user) {
    const std::string name = std::to_string(std::time(nullptr) + 3600) + ":" + user;
    auto secrets = policy::loadSecretsFile(secretsPath);
    const std::string value = secrets && !secrets->empty() ? secrets.value()[0].value : "";
    return std::make_pair(name, policy::restPassword(value, name));
  };
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--minutes")
      o.minutes = std::stod(v);
    else if (k == "--out")
      o.out = v;
    else
      return false;
  }
  return o.minutes > 0 && o.minutes <= 180;
}

struct Load {
  std::vector<std::unique_ptr<Session>> sessions;
  std::map<SocketAddress, Session*> byRelayed;
  std::unique_ptr<TcpSession> tcp;
  std::unique_ptr<BruteForce> brute;
  std::unique_ptr<Scanner> scanner;
  Flood flood;
  Churn churn;
  uint64_t reloads = 0, rotations = 0, lostAllocations = 0;
};

void drainPeer(UdpPeer& peer, Load& load) {
  std::vector<uint8_t> buf(2048);
  for (int i = 0; i < 256; ++i) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    const ssize_t n = ::recvfrom(peer.fd.get(), buf.data(), buf.size(), MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&ss), &len);
    if (n < 0) break;
    auto from = SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
    if (auto it = from ? load.byRelayed.find(*from) : load.byRelayed.end(); it != load.byRelayed.end())
      it->second->countAtPeer();
  }
}

void drainAll(UdpPeer& peer, Load& load) {
  drainPeer(peer, load);
  for (auto& s : load.sessions) s->receive();
  load.tcp->drain();
}

/// Runs every activity on its period until `seconds` have passed.
void run(Load& load, UdpPeer& peer, const Target& target, pid_t pid, double seconds,
         std::vector<Sample>& samples) {
  const auto start = soak::Clock::now();
  auto every = [&, last = std::map<int, double>{}](int id, double period, double t) mutable {
    if (t - last[id] < period) return false;
    last[id] = t;
    return true;
  };
  for (double t = 0; t < seconds; t = std::chrono::duration<double>(soak::Clock::now() - start).count()) {
    if (every(0, 0.02, t)) {
      for (auto& s : load.sessions) s->send();
      load.tcp->step();
    }
    if (every(1, 0.25, t))
      load.churn.step(target, peer.addr, static_cast<int>(load.churn.ok + load.churn.failed));
    if (every(2, 0.1, t)) load.brute->step();
    if (every(3, 0.2, t)) load.scanner->step();
    if (every(4, 0.01, t)) load.flood.step(target.udp, 5);
    if (every(5, 5, t) && t > 1) load.reloads += ::kill(pid, SIGHUP) == 0;
    if (every(6, 30, t) && t > 1) load.rotations += ::kill(pid, SIGUSR2) == 0;
    if (every(7, 1, t)) samples.push_back(sample(pid, t));
    if (every(8, 60, t) && t > 1) {
      for (auto& s : load.sessions) load.lostAllocations += !s->refresh(600);
      load.lostAllocations += !load.tcp->refresh();
    }
    drainAll(peer, load);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void settle(UdpPeer& peer, Load& load) {
  for (int i = 0; i < 200; ++i) {
    drainAll(peer, load);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string sessionsJson(const Load& load, double& worst) {
  std::string out;
  worst = 0;
  for (const auto& s : load.sessions) {
    worst = std::max(worst, s->loss());
    out += std::string(out.empty() ? "" : ",") + "{\"sent_each_way\":" + std::to_string(s->sent()) +
           ",\"received_by_peer\":" + std::to_string(s->receivedToPeer()) +
           ",\"received_by_client\":" + std::to_string(s->receivedToClient()) +
           ",\"loss\":" + std::to_string(s->loss()) + "}";
  }
  return "[" + out + "]";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr, "usage: soak [--minutes M (<= 180)] [--out FILE]\n");
    return 2;
  }
  const double seconds = o.minutes * 60;
  UdpPeer peer;
  testing::PeerListener sinks("127.0.0.1:0");
  const uint16_t udp = testing::freeUdpPort(), tcp = testing::closedTcpPort();
  testing::ServerProcess server(config(udp, tcp, peer.addr.port, sinks.addr.port));
  if (!server.ready()) {
    std::fprintf(stderr, "soak: the server did not start:\n%s\n", server.log().c_str());
    return 1;
  }
  const pid_t pid = server.pid();
  const Target target{{IpAddress::v4(127, 0, 0, 1), udp},
                      {IpAddress::v4(127, 0, 0, 1), tcp},
                      minter(server.dir() + "/secrets.yaml")};
  Load load;
  for (int i = 0; i < kSessions; ++i) {
    load.sessions.push_back(std::make_unique<Session>(target, peer, i));
    load.byRelayed[load.sessions.back()->relayed()] = load.sessions.back().get();
  }
  load.tcp = std::make_unique<TcpSession>(target, sinks);
  load.brute = std::make_unique<BruteForce>(target);
  load.scanner = std::make_unique<Scanner>(target, peer.addr);
  bool setUp = load.tcp->ok();
  for (auto& s : load.sessions) setUp = setUp && s->ok();

  std::vector<Sample> samples;
  if (setUp) run(load, peer, target, pid, seconds, samples);
  settle(peer, load);
  for (auto& s : load.sessions) load.lostAllocations += !s->refresh(600);
  testing::StunClient probe(target.udp);
  const bool answers = probe.request(stun::Method::Binding).has_value();
  const int exitCode = server.stop();

  double worst = 1;
  const std::string sessions = sessionsJson(load, worst);
  const Flatness flat = flatness(samples, seconds);
  const bool tcpIntact = load.tcp->received() == load.tcp->sent();
  // Answered until its 21st failure (bans.failed_auth), then never again.
  const bool bruteBanned = load.brute->answered > 0 && load.brute->answered < 30 && load.brute->tries > 40;
  const bool scanOk = load.scanner->wrong == 0 && load.scanner->denied_ > 0 && load.scanner->allowedOk > 0;
  const bool pass = setUp && worst < kMaxLoss && load.lostAllocations == 0 && load.churn.failed == 0 &&
                    tcpIntact && bruteBanned && scanOk && flat.ok() && answers && exitCode == 0;
  std::ofstream(o.out) << "{\"minutes\":" << o.minutes << ",\"pass\":" << (pass ? "true" : "false")
                       << ",\"set_up\":" << setUp << ",\"sessions\":" << sessions
                       << ",\"worst_loss\":" << worst << ",\"lost_allocations\":" << load.lostAllocations
                       << ",\"tcp\":{\"sent\":" << load.tcp->sent()
                       << ",\"received\":" << load.tcp->received() << "}"
                       << ",\"churn\":{\"ok\":" << load.churn.ok << ",\"failed\":" << load.churn.failed << "}"
                       << ",\"brute_force\":{\"tries\":" << load.brute->tries
                       << ",\"answered\":" << load.brute->answered << "}"
                       << ",\"scanner\":{\"denied\":" << load.scanner->denied_
                       << ",\"allowed\":" << load.scanner->allowedOk << ",\"wrong\":" << load.scanner->wrong
                       << ",\"reallocated\":" << load.scanner->reallocated << "}"
                       << ",\"flood_datagrams\":" << load.flood.sent << ",\"reloads\":" << load.reloads
                       << ",\"rotations\":" << load.rotations << ",\"rss_kb\":{\"base\":" << flat.rssBase
                       << ",\"end\":" << flat.rssEnd << "},\"fds\":{\"base\":" << flat.fdBase
                       << ",\"end\":" << flat.fdEnd << "},\"samples\":" << samples.size()
                       << ",\"answers_at_end\":" << answers << ",\"exit_code\":" << exitCode << "}\n";
  std::printf("soak: %s (details in %s)\n", pass ? "PASS" : "FAIL", o.out.c_str());
  return pass ? 0 : 1;
}
