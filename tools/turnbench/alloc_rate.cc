#include "tools/turnbench/alloc_rate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
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

/// One client: its source address (with the generator's port, its
/// 5-tuple), its credentials and nonce, and the request owed an answer.
struct Client {
  in_addr_t address = 0;  ///< network order, in 127/8
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

/// The generator's one UDP socket, bound to 0.0.0.0 on an ephemeral port.
/// Each client sends from its own 127/8 address (IP_PKTINFO), so each has
/// its own 5-tuple, and each answer's destination address (IP_PKTINFO
/// again) names its client. Sends and receives go in batches of up to 64
/// (sendmmsg, recvmmsg): a socket per client cost the generator a socket,
/// a connect and a recv that found nothing per allocation, which made its
/// core, not the server, the bound of the figure.
class ClientSocket {
 public:
  using Answer = std::pair<in_addr_t, std::span<const uint8_t>>;

  bool open(const SocketAddress& server) {
    fd_ = io::UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const int on = 1;
    sockaddr_in any{};
    any.sin_family = AF_INET;
    if (!fd_ || ::setsockopt(fd_.get(), IPPROTO_IP, IP_PKTINFO, &on, sizeof on) != 0 ||
        ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) != 0)
      return false;
    sockaddr_storage ss;
    server.toSockaddr(ss);
    std::memcpy(&server_, &ss, sizeof server_);
    in_.resize(kBatch * kMaxDatagram);
    return true;
  }

  int fd() const { return fd_.get(); }

  /// Queues `bytes` from `from`; sends the batch when it is full.
  void queue(in_addr_t from, std::span<const uint8_t> bytes) {
    if (pending_ == kBatch) flush();
    Slot& s = out_[pending_++];
    s.length = std::min(bytes.size(), s.bytes.size());
    std::memcpy(s.bytes.data(), bytes.data(), s.length);
    s.from = from;
  }

  /// Sends what is queued (what the kernel refuses is lost, and retransmitted).
  void flush() {
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

  /// The answers waiting now (none: an empty list), each with the client
  /// address it was sent to.
  const std::vector<Answer>& receive() {
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
      if (auto to = destination(msgs[i].msg_hdr))
        answers_.emplace_back(*to, std::span<const uint8_t>(in_.data() + i * kMaxDatagram, msgs[i].msg_len));
    }
    return answers_;
  }

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
  std::vector<uint8_t> in_;
  std::vector<Answer> answers_;
};

class Pipeline {
 public:
  Pipeline(const AllocRateOptions& o, AllocRateResult& r) : o_(o), r_(r), rng_(std::random_device{}()) {}

  bool open() {
    clients_.reserve(size_t(o_.allocations) + 1024);
    return socket_.open(o_.server);
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
    c.address = clientAddress(uint32_t(clients_.size() - 1));
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
    return c.auth.build(m, newTxn(c), [lifetime](stun::MessageBuilder& b) {
      b.addU32(stun::attr::Lifetime, lifetime);
    }, true);
  }

  const stun::TransactionId& newTxn(Client& c) {
    for (auto& b : c.txn) b = static_cast<uint8_t>(rng_());
    return c.txn;
  }

  /// The client (not in flight) starts an exchange with `request`.
  void begin(Client& c, std::vector<uint8_t> request) {
    ++inFlight_;
    active_.push_back(uint32_t(&c - clients_.data()));
    next(c, std::move(request));
  }

  /// The client (in flight) sends its next request.
  void next(Client& c, std::vector<uint8_t> request) {
    c.request = std::move(request);
    c.sends = 0;
    transmit(c);
  }

  void transmit(Client& c) {
    socket_.queue(c.address, c.request);
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
    socket_.flush();
    const std::vector<ClientSocket::Answer>* answers = &socket_.receive();
    if (answers->empty()) {
      pollfd p{socket_.fd(), POLLIN, 0};
      ::poll(&p, 1, int(kScanEvery.count()));
      answers = &socket_.receive();
    }
    // Handling an answer may queue (and send) requests, never receive, so
    // the answers' bytes stay valid through the loop.
    for (const auto& [to, bytes] : *answers) handle(to, bytes);
    if (Clock::now() >= nextScan_) scanOverdue();
  }

  void handle(in_addr_t to, std::span<const uint8_t> bytes) {
    const auto n = clientNumber(to);
    if (!n || *n >= clients_.size() || !inFlight(clients_[*n].stage)) return;  // late duplicate
    Client& c = clients_[*n];
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
      // from a new one (RFC 8656 §7.2); here, the next address.
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
      held_.push_back(uint32_t(&c - clients_.data()));
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
  std::mt19937_64 rng_;
  MacEngine macs_;
  ClientSocket socket_;
  int started_ = 0;
  int inFlight_ = 0;
  std::vector<Client> clients_;   ///< every client, by number (its address)
  std::vector<uint32_t> active_;  ///< clients that were in flight at the last scan, or since
  std::vector<uint32_t> held_;    ///< clients holding an allocation
  Clock::time_point nextScan_ = Clock::now() + kScanEvery;
};

}  // namespace

std::string restUser(const std::string& tag) {
  return std::to_string(std::time(nullptr) + 3600) + ":" + tag;
}

AllocRateResult measureAllocationRate(const AllocRateOptions& o) {
  AllocRateResult r;
  Pipeline p(o, r);
  if (o.server.ip.family() != Family::V4 || !p.open()) {
    std::fprintf(stderr, "turnbench: the allocations figure needs an IPv4 server address "
                         "(its clients send from addresses in 127/8)\n");
    r.failed = o.allocations;
    return r;
  }
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
