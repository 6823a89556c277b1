#include "tools/turnbench/alloc_rate.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <optional>
#include <random>
#include <vector>

#include "policy/credentials.h"
#include "relay/io/handles.h"
#include "relay/stun/message.h"
#include "tests/support/long_term_auth.h"
#include "tools/turnbench/procstat.h"

namespace tw::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kRetransmit = std::chrono::milliseconds(500);
constexpr int kMaxSends = 4;

enum class Stage : uint8_t { Challenge, Signed, Release };

/// One client in the middle of an exchange: its socket (its 5-tuple), its
/// credentials and nonce, and the request owed an answer.
struct Client {
  io::UniqueFd fd;
  testing::LongTermAuth auth;
  Stage stage = Stage::Challenge;
  stun::TransactionId txn{};
  std::vector<uint8_t> request;
  Clock::time_point sentAt;
  int sends = 0;
  bool nonceRenewed = false;  ///< a release answered 438 once already
};

/// A UDP socket on 127.0.0.1, connected to the server, non-blocking.
std::optional<io::UniqueFd> openClientSocket(const SocketAddress& server) {
  io::UniqueFd fd(::socket(server.ip.family() == Family::V6 ? AF_INET6 : AF_INET,
                           SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return std::nullopt;
  sockaddr_storage ss;
  const socklen_t len = server.toSockaddr(ss);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return std::nullopt;
  return fd;
}

class Pipeline {
 public:
  Pipeline(const AllocRateOptions& o, AllocRateResult& r) : o_(o), r_(r), rng_(std::random_device{}()) {}

  /// Makes `o_.allocations` allocations, `o_.inFlight` at a time.
  void allocate() {
    while (started_ < o_.allocations || !active_.empty()) {
      while (started_ < o_.allocations && int(active_.size()) < o_.inFlight) startAllocation();
      pump();
    }
  }

  /// Releases every allocation made, `o_.inFlight` at a time.
  void release() {
    while (!held_.empty() || !active_.empty()) {
      while (!held_.empty() && int(active_.size()) < o_.inFlight) {
        Client c = std::move(held_.front());
        held_.pop_front();
        c.stage = Stage::Release;
        send(c, signedRequest(c, stun::Method::Refresh, 0));
        active_.push_back(std::move(c));
      }
      pump();
    }
  }

 private:
  void startAllocation() {
    const std::string user = restUser("rate" + std::to_string(started_++));
    if (auto c = startClient(user)) active_.push_back(std::move(*c));
  }

  /// A new client (socket) for `user`, its unsigned Allocate sent.
  std::optional<Client> startClient(const std::string& user) {
    auto fd = openClientSocket(o_.server);
    if (!fd) {
      ++r_.failed;
      return std::nullopt;
    }
    Client c;
    c.fd = std::move(*fd);
    c.auth.username = user;
    c.auth.password = policy::restPassword(o_.secret, user);
    send(c, c.auth.build(stun::Method::Allocate, newTxn(c), requestedUdp(), false));
    return c;
  }

  static testing::LongTermAuth::AddAttrs requestedUdp() {
    return [](stun::MessageBuilder& b) { b.addRequestedTransport(17); };
  }

  std::vector<uint8_t> signedRequest(Client& c, stun::Method m, uint32_t lifetime) {
    if (m == stun::Method::Allocate) return c.auth.build(m, newTxn(c), requestedUdp(), true);
    return c.auth.build(m, newTxn(c), [lifetime](stun::MessageBuilder& b) {
      b.addU32(stun::attr::Lifetime, lifetime);
    }, true);
  }

  const stun::TransactionId& newTxn(Client& c) {
    for (auto& b : c.txn) b = static_cast<uint8_t>(rng_());
    return c.txn;
  }

  static void send(Client& c, std::vector<uint8_t> request) {
    c.request = std::move(request);
    c.sends = 0;
    transmit(c);
  }

  static void transmit(Client& c) {
    ::send(c.fd.get(), c.request.data(), c.request.size(), MSG_DONTWAIT);
    c.sentAt = Clock::now();
    ++c.sends;
  }

  /// Waits (bounded) for answers, handles them, and retransmits or gives
  /// up on requests owed an answer for too long.
  void pump() {
    fds_.clear();
    for (const Client& c : active_) fds_.push_back(pollfd{c.fd.get(), POLLIN, 0});
    if (::poll(fds_.data(), fds_.size(), 20) < 0) return;
    std::vector<Client> next;
    next.reserve(active_.size());
    for (size_t i = 0; i < active_.size(); ++i) {
      Client& c = active_[i];
      const bool open = (fds_[i].revents & POLLIN) ? answered(c) : overdue(c);
      if (open) next.push_back(std::move(c));
    }
    for (Client& c : restarted_) next.push_back(std::move(c));
    restarted_.clear();
    active_ = std::move(next);
  }

  /// False when the client's exchange ended (answered or given up).
  bool overdue(Client& c) {
    if (Clock::now() - c.sentAt < kRetransmit) return true;
    if (c.sends < kMaxSends) {
      ++r_.retransmits;
      transmit(c);
      return true;
    }
    ++r_.failed;
    ++r_.failedCodes[-1];
    return false;
  }

  /// Reads what arrived; false when the exchange ended.
  bool answered(Client& c) {
    std::array<uint8_t, 2048> buf;
    for (;;) {
      const ssize_t n = ::recv(c.fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n <= 0) return true;  // nothing (more) for this client: still waiting
      auto msg = stun::decode(std::span<const uint8_t>(buf.data(), size_t(n)));
      if (!msg || msg->transactionId() != c.txn) continue;  // a late duplicate
      auto ec = msg->errorCode();
      return advance(c, ec ? ec->code : 0, *msg);
    }
  }

  /// The next step after an answer with `code`; false when the exchange ended.
  bool advance(Client& c, int code, const stun::Message& msg) {
    if (c.stage == Stage::Release) {
      // One 438 (the allocation's nonce went stale) is answered with the
      // new nonce; a second ends the release, so it stays bounded.
      if (code == 438 && !c.nonceRenewed && c.auth.learn(code, msg)) {
        c.nonceRenewed = true;
        send(c, signedRequest(c, stun::Method::Refresh, 0));
        return true;
      }
      if (code == 0) ++r_.released;
      return false;
    }
    if (code == 437) {
      // A 5-tuple an earlier run left allocated: a real client retries from
      // a new one (RFC 8656 §7.2). The stale socket stays open until the
      // end, so the kernel cannot hand out its port again.
      ++r_.mismatches;
      const std::string user = c.auth.username;
      stale_.push_back(std::move(c.fd));
      if (auto fresh = startClient(user)) restarted_.push_back(std::move(*fresh));
      return false;
    }
    if (c.stage == Stage::Challenge && c.auth.learn(code, msg)) {
      c.stage = Stage::Signed;
      send(c, signedRequest(c, stun::Method::Allocate, 0));
      return true;
    }
    if (code == 0 && c.stage == Stage::Signed) {
      ++r_.ok;
      held_.push_back(std::move(c));
    } else {
      ++r_.failed;
      ++r_.failedCodes[code];
    }
    return false;
  }

  const AllocRateOptions& o_;
  AllocRateResult& r_;
  std::mt19937_64 rng_;
  int started_ = 0;
  std::vector<Client> active_;
  std::vector<Client> restarted_;  ///< new clients for 437s, joined after the pass
  std::deque<Client> held_;
  std::vector<io::UniqueFd> stale_;
  std::vector<pollfd> fds_;
};

}  // namespace

std::string restUser(const std::string& tag) {
  return std::to_string(std::time(nullptr) + 3600) + ":" + tag;
}

AllocRateResult measureAllocationRate(const AllocRateOptions& o) {
  AllocRateResult r;
  Pipeline p(o, r);
  const auto cpu0 = o.serverPid ? cpuSecondsPrecise(o.serverPid) : std::nullopt;
  const auto start = Clock::now();
  p.allocate();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const auto cpu1 = o.serverPid ? cpuSecondsPrecise(o.serverPid) : std::nullopt;
  if (cpu0 && cpu1) r.serverCpuSeconds = *cpu1 - *cpu0;
  p.release();
  return r;
}

void printAllocationRate(const AllocRateResult& r, int requested) {
  std::printf("allocations_ok %d of %d\n", r.ok, requested);
  std::printf("allocations_failed %d", r.failed);
  for (const auto& [code, n] : r.failedCodes) std::printf(" %s:%d", code < 0 ? "timeout" : std::to_string(code).c_str(), n);
  std::printf("\n");
  std::printf("allocations_retransmits %d\n", r.retransmits);
  std::printf("allocations_mismatch_retries %d\n", r.mismatches);
  std::printf("allocations_released %d\n", r.released);
  if (r.seconds > 0) std::printf("allocations_per_second %.0f\n", r.ok / r.seconds);
  // Server CPU per allocation (401 and Allocate): comparable on a loaded
  // machine, where the rate above is not.
  if (r.serverCpuSeconds >= 0 && r.ok > 0)
    std::printf("server_cpu_us_per_allocation %.1f\n", r.serverCpuSeconds * 1e6 / r.ok);
}

}  // namespace tw::bench
