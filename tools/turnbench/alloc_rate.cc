#include "tools/turnbench/alloc_rate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "policy/credentials.h"
#include "relay/base/mac_engine.h"
#include "relay/io/handles.h"
#include "relay/stun/message.h"
#include "tests/support/long_term_auth.h"
#include "tools/turnbench/procstat.h"

namespace tw::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kRetransmit = std::chrono::milliseconds(500);
constexpr auto kScanEvery = std::chrono::milliseconds(20);
constexpr int kMaxSends = 4;
constexpr size_t kBatch = 64;
constexpr size_t kMaxDatagram = 2048;

enum class Stage : uint8_t { Challenge, Signed, Held, Release, Done };

bool inFlight(Stage s) { return s == Stage::Challenge || s == Stage::Signed || s == Stage::Release; }

/// One client (its 5-tuple is the transport's): its credentials and nonce,
/// and the request owed an answer.
struct Client {
  testing::LongTermAuth auth;
  Stage stage = Stage::Challenge;
  stun::TransactionId txn{};
  std::vector<uint8_t> request;
  Clock::time_point sentAt;
  int sends = 0;
  bool nonceRenewed = false;  ///< a release answered 438 once already
};

/// Client number n's address: 127.x.y.z with x from 2 (127.0.0.1 is the
/// server's own), y and z in 1..250 (never .0 or .255).
in_addr_t clientAddress(uint32_t n) {
  const uint32_t z = 1 + n % 250, y = 1 + (n / 250) % 250, x = 2 + n / 62500;
  return htonl((127u << 24) | (x << 16) | (y << 8) | z);
}

std::optional<uint32_t> clientNumber(in_addr_t address) {
  const uint32_t h = ntohl(address), x = (h >> 16) & 255, y = (h >> 8) & 255, z = h & 255;
  if ((h >> 24) != 127 || x < 2 || y < 1 || y > 250 || z < 1 || z > 250) return std::nullopt;
  return (x - 2) * 62500 + (y - 1) * 250 + (z - 1);
}

/// Where the clients' requests leave and their answers arrive. A client is
/// its number; each has its own 5-tuple.
class ClientTransport {
 public:
  using Answer = std::pair<uint32_t, std::span<const uint8_t>>;  ///< client, bytes
  virtual ~ClientTransport() = default;
  /// Sends `bytes` from `client`, now or at the next flush().
  virtual void queue(uint32_t client, std::span<const uint8_t> bytes) = 0;
  virtual void flush() {}
  /// The answers waiting now (none: an empty list). The bytes stay valid
  /// until the next receive().
  virtual const std::vector<Answer>& receive() = 0;
  /// Readable when answers wait.
  virtual int pollFd() const = 0;

 protected:
  std::vector<uint8_t> in_ = std::vector<uint8_t>(kBatch * kMaxDatagram);
  std::vector<Answer> answers_;
};

/// --client-addresses one: every client on 127.0.0.1 (or ::1) with a port
/// of its own, as many users behind one NAT. The sockets are made and
/// connected before the timed part (socket, connect and a wasted recv per
/// allocation made the generator's core the bound); answers are found
/// with epoll.
class SocketPerClient final : public ClientTransport {
 public:
  bool open(const SocketAddress& server, uint32_t clients) {
    server_ = server;
    epoll_ = io::UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    while (fds_.size() < clients)
      if (!add()) return false;
    return bool(epoll_);
  }

  void queue(uint32_t client, std::span<const uint8_t> bytes) override {
    while (fds_.size() <= client)
      if (!add()) return;  // a retry beyond the sockets made up front (437)
    ::send(fds_[client].get(), bytes.data(), bytes.size(), MSG_DONTWAIT);
  }

  const std::vector<Answer>& receive() override {
    std::array<epoll_event, kBatch> ready;
    answers_.clear();
    const int n = ::epoll_wait(epoll_.get(), ready.data(), int(kBatch), 0);
    for (int i = 0; i < n; ++i) {
      const uint32_t client = ready[i].data.u32;
      uint8_t* slot = in_.data() + size_t(i) * kMaxDatagram;
      const ssize_t len = ::recv(fds_[client].get(), slot, kMaxDatagram, MSG_DONTWAIT);
      if (len > 0) answers_.emplace_back(client, std::span<const uint8_t>(slot, size_t(len)));
    }
    return answers_;
  }

  int pollFd() const override { return epoll_.get(); }

 private:
  bool add() {
    io::UniqueFd fd(::socket(server_.ip.family() == Family::V6 ? AF_INET6 : AF_INET,
                             SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_storage ss;
    const socklen_t len = server_.toSockaddr(ss);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = uint32_t(fds_.size());
    if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0)
      return false;
    fds_.push_back(std::move(fd));
    return true;
  }

  SocketAddress server_;
  io::UniqueFd epoll_;
  std::vector<io::UniqueFd> fds_;  ///< by client number
};

/// --client-addresses many: each client sends from its own source address
/// in 127/8, through one UDP socket bound to 0.0.0.0 on an ephemeral port
/// (IP_PKTINFO sets the source; the answer's IP_PKTINFO names the client),
/// in sendmmsg/recvmmsg batches of up to 64. As real clients, from many
/// addresses. IPv4 only (::1 is the one IPv6 loopback address).
class AddressPerClient final : public ClientTransport {
 public:
  bool open(const SocketAddress& server) {
    fd_ = io::UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const int on = 1;
    sockaddr_in any{};
    any.sin_family = AF_INET;
    if (server.ip.family() != Family::V4 || !fd_ ||
        ::setsockopt(fd_.get(), IPPROTO_IP, IP_PKTINFO, &on, sizeof on) != 0 ||
        ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) != 0)
      return false;
    sockaddr_storage ss;
    server.toSockaddr(ss);
    std::memcpy(&server_, &ss, sizeof server_);
    return true;
  }

  void queue(uint32_t client, std::span<const uint8_t> bytes) override {
    if (pending_ == kBatch) flush();
    Slot& s = out_[pending_++];
    s.length = std::min(bytes.size(), s.bytes.size());
    std::memcpy(s.bytes.data(), bytes.data(), s.length);
    s.from = clientAddress(client);
  }

  /// Sends what is queued (what the kernel refuses is lost, and retransmitted).
  void flush() override {
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iov;
    std::array<std::array<char, CMSG_SPACE(sizeof(in_pktinfo))>, kBatch> ctl{};
    for (size_t i = 0; i < pending_; ++i) {
      iov[i] = {out_[i].bytes.data(), out_[i].length};
      msghdr& h = msgs[i].msg_hdr;
      h.msg_name = &server_;
      h.msg_namelen = sizeof server_;
      h.msg_iov = &iov[i];
      h.msg_iovlen = 1;
      h.msg_control = ctl[i].data();
      h.msg_controllen = ctl[i].size();
      cmsghdr* cm = CMSG_FIRSTHDR(&h);
      cm->cmsg_level = IPPROTO_IP;
      cm->cmsg_type = IP_PKTINFO;
      cm->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
      in_pktinfo info{};
      info.ipi_spec_dst.s_addr = out_[i].from;
      std::memcpy(CMSG_DATA(cm), &info, sizeof info);
    }
    for (size_t done = 0; done < pending_;) {
      const int n = ::sendmmsg(fd_.get(), msgs.data() + done, unsigned(pending_ - done), 0);
      if (n <= 0) break;
      done += size_t(n);
    }
    pending_ = 0;
  }

  const std::vector<Answer>& receive() override {
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iov;
    std::array<std::array<char, CMSG_SPACE(sizeof(in_pktinfo))>, kBatch> ctl;
    for (size_t i = 0; i < kBatch; ++i) {
      iov[i] = {in_.data() + i * kMaxDatagram, kMaxDatagram};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = ctl[i].data();
      msgs[i].msg_hdr.msg_controllen = ctl[i].size();
    }
    answers_.clear();
    const int n = ::recvmmsg(fd_.get(), msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    for (int i = 0; i < n; ++i) {
      const auto to = destination(msgs[i].msg_hdr);
      if (auto client = to ? clientNumber(*to) : std::nullopt)
        answers_.emplace_back(*client,
                              std::span<const uint8_t>(in_.data() + i * kMaxDatagram, msgs[i].msg_len));
    }
    return answers_;
  }

  int pollFd() const override { return fd_.get(); }

 private:
  struct Slot {
    std::array<uint8_t, 512> bytes;
    size_t length = 0;
    in_addr_t from = 0;
  };

  static std::optional<in_addr_t> destination(msghdr& h) {
    for (cmsghdr* cm = CMSG_FIRSTHDR(&h); cm; cm = CMSG_NXTHDR(&h, cm)) {
      if (cm->cmsg_level != IPPROTO_IP || cm->cmsg_type != IP_PKTINFO) continue;
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(cm), sizeof info);
      return info.ipi_addr.s_addr;
    }
    return std::nullopt;
  }

  io::UniqueFd fd_;
  sockaddr_in server_{};
  std::array<Slot, kBatch> out_;
  size_t pending_ = 0;
};

class Pipeline {
 public:
  Pipeline(const AllocRateOptions& o, AllocRateResult& r, ClientTransport& transport)
      : o_(o), r_(r), transport_(transport), rng_(std::random_device{}()) {
    clients_.reserve(size_t(o_.allocations) + 1024);
  }

  /// Makes `o_.allocations` allocations, `o_.inFlight` at a time.
  void allocate() {
    while (started_ < o_.allocations || inFlight_ > 0) {
      while (started_ < o_.allocations && inFlight_ < o_.inFlight)
        startClient(restUser("rate" + std::to_string(started_++)));
      pump();
    }
  }

  /// Releases every allocation made, `o_.inFlight` at a time.
  void release() {
    size_t next = 0;
    while (next < held_.size() || inFlight_ > 0) {
      while (next < held_.size() && inFlight_ < o_.inFlight) {
        Client& c = clients_[held_[next++]];
        c.stage = Stage::Release;
        begin(c, signedRequest(c, stun::Method::Refresh, 0));
      }
      pump();
    }
  }

 private:
  /// A new client for `user`, its unsigned Allocate queued.
  void startClient(const std::string& user) {
    Client& c = clients_.emplace_back();
    c.auth.engine = &macs_;
    c.auth.username = user;
    c.auth.password = policy::restPassword(o_.secret, user, macs_);
    begin(c, c.auth.build(stun::Method::Allocate, newTxn(c), requestedUdp(), false));
  }

  static testing::LongTermAuth::AddAttrs requestedUdp() {
    return [](stun::MessageBuilder& b) { b.addRequestedTransport(17); };
  }

  std::vector<uint8_t> signedRequest(Client& c, stun::Method m, uint32_t lifetime) {
    if (m == stun::Method::Allocate) return c.auth.build(m, newTxn(c), requestedUdp(), true);
    return c.auth.build(
        m, newTxn(c), [lifetime](stun::MessageBuilder& b) { b.addU32(stun::attr::Lifetime, lifetime); },
        true);
  }

  const stun::TransactionId& newTxn(Client& c) {
    for (auto& b : c.txn) b = static_cast<uint8_t>(rng_());
    return c.txn;
  }

  uint32_t numberOf(const Client& c) const { return uint32_t(&c - clients_.data()); }

  /// The client (not in flight) starts an exchange with `request`.
  void begin(Client& c, std::vector<uint8_t> request) {
    ++inFlight_;
    active_.push_back(numberOf(c));
    next(c, std::move(request));
  }

  /// The client (in flight) sends its next request.
  void next(Client& c, std::vector<uint8_t> request) {
    c.request = std::move(request);
    c.sends = 0;
    transmit(c);
  }

  void transmit(Client& c) {
    transport_.queue(numberOf(c), c.request);
    c.sentAt = Clock::now();
    ++c.sends;
  }

  /// The client's exchange ended; it goes to `stage` (Held or Done).
  void end(Client& c, Stage stage) {
    c.stage = stage;
    --inFlight_;
  }

  /// Sends what is queued, then handles the answers that arrived, waiting
  /// (bounded) for some when none has; retransmits or gives up on requests
  /// owed an answer for too long.
  void pump() {
    transport_.flush();
    const std::vector<ClientTransport::Answer>* answers = &transport_.receive();
    // Spinning before the wait keeps this thread off the socket's wait
    // queue, so the server's answer wakes no one (see AllocRateOptions::spinUs).
    const auto spinUntil = Clock::now() + std::chrono::microseconds(o_.spinUs);
    while (answers->empty() && Clock::now() < spinUntil) answers = &transport_.receive();
    if (answers->empty()) {
      pollfd p{transport_.pollFd(), POLLIN, 0};
      ::poll(&p, 1, int(kScanEvery.count()));
      answers = &transport_.receive();
    }
    // Handling an answer may queue (and send) requests, never receive, so
    // the answers' bytes stay valid through the loop.
    for (const auto& [to, bytes] : *answers) handle(to, bytes);
    if (Clock::now() >= nextScan_) scanOverdue();
  }

  void handle(uint32_t n, std::span<const uint8_t> bytes) {
    if (n >= clients_.size() || !inFlight(clients_[n].stage)) return;  // late duplicate
    Client& c = clients_[n];
    auto msg = stun::decode(bytes);
    if (!msg || msg->transactionId() != c.txn) return;
    auto ec = msg->errorCode();
    advance(c, ec ? ec->code : 0, *msg);
  }

  void scanOverdue() {
    nextScan_ = Clock::now() + kScanEvery;
    std::vector<uint32_t> still;
    for (uint32_t i : active_) {
      Client& c = clients_[i];
      if (!inFlight(c.stage)) continue;
      still.push_back(i);
      if (Clock::now() - c.sentAt < kRetransmit) continue;
      if (c.sends < kMaxSends) {
        ++r_.retransmits;
        transmit(c);
        continue;
      }
      ++r_.failed;
      ++r_.failedCodes[-1];
      end(c, Stage::Done);
    }
    active_ = std::move(still);
  }

  /// The next step after an answer with `code`.
  void advance(Client& c, int code, const stun::Message& msg) {
    if (c.stage == Stage::Release) return advanceRelease(c, code, msg);
    if (code == 437) {
      // A 5-tuple an earlier run left allocated: a real client retries
      // from a new one (RFC 8656 §7.2); here, the next client's.
      ++r_.mismatches;
      end(c, Stage::Done);
      return startClient(std::string(c.auth.username));
    }
    if (c.stage == Stage::Challenge && c.auth.learn(code, msg)) {
      c.stage = Stage::Signed;
      return next(c, signedRequest(c, stun::Method::Allocate, 0));
    }
    if (code == 0 && c.stage == Stage::Signed) {
      ++r_.ok;
      held_.push_back(numberOf(c));
      return end(c, Stage::Held);
    }
    ++r_.failed;
    ++r_.failedCodes[code];
    end(c, Stage::Done);
  }

  void advanceRelease(Client& c, int code, const stun::Message& msg) {
    // One 438 (the allocation's nonce went stale) is answered with the new
    // nonce; a second ends the release, so it stays bounded.
    if (code == 438 && !c.nonceRenewed && c.auth.learn(code, msg)) {
      c.nonceRenewed = true;
      return next(c, signedRequest(c, stun::Method::Refresh, 0));
    }
    if (code == 0) ++r_.released;
    end(c, Stage::Done);
  }

  const AllocRateOptions& o_;
  AllocRateResult& r_;
  ClientTransport& transport_;
  std::mt19937_64 rng_;
  MacEngine macs_;
  int started_ = 0;
  int inFlight_ = 0;
  std::vector<Client> clients_;   ///< every client, by number
  std::vector<uint32_t> active_;  ///< clients that were in flight at the last scan, or since
  std::vector<uint32_t> held_;    ///< clients holding an allocation
  Clock::time_point nextScan_ = Clock::now() + kScanEvery;
};

}  // namespace

std::string restUser(const std::string& tag) { return std::to_string(std::time(nullptr) + 3600) + ":" + tag; }

namespace {
/// The transport `o` asks for, open; null (after a message) when it cannot be.
std::unique_ptr<ClientTransport> openTransport(const AllocRateOptions& o) {
  if (o.manyAddresses) {
    auto t = std::make_unique<AddressPerClient>();
    if (t->open(o.server)) return t;
    std::fprintf(stderr,
                 "turnbench: --client-addresses many needs an IPv4 server address "
                 "(its clients send from addresses in 127/8)\n");
    return nullptr;
  }
  auto t = std::make_unique<SocketPerClient>();
  // Room for 437 retries without making sockets inside the timed part.
  if (t->open(o.server, uint32_t(o.allocations) + 64)) return t;
  std::fprintf(stderr, "turnbench: cannot open %d client sockets: %s (ulimit -n?)\n", o.allocations + 64,
               std::strerror(errno));
  return nullptr;
}
}  // namespace

AllocRateResult measureAllocationRate(const AllocRateOptions& o) {
  AllocRateResult r;
  auto transport = openTransport(o);
  if (!transport) {
    r.failed = o.allocations;
    return r;
  }
  Pipeline p(o, r, *transport);
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
  for (const auto& [code, n] : r.failedCodes)
    std::printf(" %s:%d", code < 0 ? "timeout" : std::to_string(code).c_str(), n);
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
