#include "tools/turnbench/load.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>

#include "relay/io/handles.h"

namespace tw::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kBurst = 64;  // datagrams per GSO send (the kernel's segment cap)
constexpr size_t kSlot = 2048;

uint64_t nanosSince(Clock::time_point t0) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

/// One leg's burst: `count` ChannelData frames of the same size back to back,
/// sent as one GSO message (the kernel cuts it into datagrams).
bool sendBurst(int fd, const sockaddr_storage& to, socklen_t toLen, std::vector<uint8_t>& buf, size_t frame,
               size_t count, uint64_t stamp) {
  for (size_t k = 0; k < count; ++k) std::memcpy(buf.data() + k * frame + 4, &stamp, sizeof stamp);
  iovec iov{buf.data(), frame * count};
  msghdr msg{};
  msg.msg_name = const_cast<sockaddr_storage*>(&to);
  msg.msg_namelen = toLen;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) std::array<uint8_t, CMSG_SPACE(sizeof(uint16_t))> control{};
  if (count > 1) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    const uint16_t seg = static_cast<uint16_t>(frame);
    std::memcpy(CMSG_DATA(c), &seg, sizeof seg);
  }
  return ::sendmsg(fd, &msg, MSG_DONTWAIT) >= 0;
}

struct Receiver {
  std::array<std::array<uint8_t, kSlot>, kBurst> data;
  std::array<iovec, kBurst> iov;
  std::array<mmsghdr, kBurst> hdrs;
  Receiver() {
    for (size_t i = 0; i < kBurst; ++i) {
      iov[i] = iovec{data[i].data(), kSlot};
      std::memset(&hdrs[i], 0, sizeof hdrs[i]);
      hdrs[i].msg_hdr.msg_iov = &iov[i];
      hdrs[i].msg_hdr.msg_iovlen = 1;
    }
  }
  /// Reads what is queued on fd; counts ChannelData, records latencies.
  void drain(int fd, LoadResult& r, bool inWindow, bool latency, Clock::time_point t0) {
    for (;;) {
      const int n = ::recvmmsg(fd, hdrs.data(), kBurst, MSG_DONTWAIT, nullptr);
      if (n <= 0) return;
      const uint64_t now = latency ? nanosSince(t0) : 0;
      for (int i = 0; i < n; ++i) {
        if (hdrs[i].msg_len < 12 || (data[i][0] & 0xC0) != 0x40) continue;
        ++r.received;
        if (inWindow) ++r.receivedInWindow;
        if (!latency) continue;
        uint64_t stamp;
        std::memcpy(&stamp, data[i].data() + 4, sizeof stamp);
        if (now >= stamp && r.latencyUs.size() < r.latencyUs.capacity())
          r.latencyUs.push_back(static_cast<uint32_t>((now - stamp) / 1000));
      }
      if (n < static_cast<int>(kBurst)) return;
    }
  }
};

}  // namespace

double LoadResult::latency(double q) const {
  if (latencyUs.empty()) return 0;
  const size_t i = std::min(latencyUs.size() - 1, static_cast<size_t>(q * double(latencyUs.size())));
  return latencyUs[i];
}

LoadResult runLoad(const SocketAddress& server, const std::vector<int>& legFds, const LoadOptions& o) {
  LoadResult r;
  r.seconds = o.seconds;
  if (o.latency) r.latencyUs.reserve(static_cast<size_t>(o.rate * o.seconds) + 1024);
  sockaddr_storage to;
  const socklen_t toLen = server.toSockaddr(to);
  const size_t frame = 4 + std::max<size_t>(o.size, 8);
  std::vector<uint8_t> buf(frame * kBurst);
  for (size_t k = 0; k < kBurst; ++k) {
    uint8_t* f = buf.data() + k * frame;
    f[0] = 0x40, f[1] = 0x00;  // channel 0x4000
    f[2] = static_cast<uint8_t>((frame - 4) >> 8), f[3] = static_cast<uint8_t>(frame - 4);
  }
  io::UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  for (size_t i = 0; i < legFds.size(); ++i) {
    epoll_event ev{EPOLLIN, {.u64 = i}};
    ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, legFds[i], &ev);
  }
  auto rx = std::make_unique<Receiver>();
  std::vector<epoll_event> ready(legFds.size());
  std::vector<uint64_t> sent(legFds.size(), 0);       // actually handed to the kernel
  std::vector<uint64_t> scheduled(legFds.size(), 0);  // due so far, skipped ones included
  const double perLeg = o.rate / double(legFds.size());
  // A generator stalled by the scheduler does not fire its whole backlog at
  // once (1,000 legs x 64 datagrams would overflow any server's socket
  // buffer): at most 2 ms worth per leg (4 at least) is caught up; the rest
  // is skipped, not sent and not counted as lost.
  const uint64_t maxBehind = std::max<uint64_t>(4, static_cast<uint64_t>(perLeg * 0.002));
  const auto t0 = Clock::now();
  const auto end = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  const auto settle = end + std::chrono::milliseconds(300);
  const int idleWait = o.rate >= 5000 ? 0 : 1;
  for (auto now = t0; now < settle; now = Clock::now()) {
    const bool inWindow = now < end;
    if (inWindow) {
      const double elapsed = std::chrono::duration<double>(now - t0).count();
      const auto target = static_cast<uint64_t>(elapsed * perLeg) + 1;
      for (size_t i = 0; i < legFds.size(); ++i) {
        if (scheduled[i] >= target) continue;
        if (target - scheduled[i] > maxBehind) scheduled[i] = target - maxBehind;
        const size_t count = std::min<uint64_t>(kBurst, target - scheduled[i]);
        scheduled[i] += count;
        if (sendBurst(legFds[i], to, toLen, buf, frame, count, nanosSince(t0))) sent[i] += count;
      }
    }
    const int n =
        ::epoll_wait(ep.get(), ready.data(), static_cast<int>(ready.size()), inWindow ? idleWait : 5);
    for (int i = 0; i < n; ++i) rx->drain(legFds[ready[i].data.u64], r, inWindow, o.latency, t0);
  }
  for (uint64_t s : sent) r.sent += s;
  std::sort(r.latencyUs.begin(), r.latencyUs.end());
  return r;
}

double findLossless(const SocketAddress& server, const std::vector<int>& legFds, const LoadOptions& base,
                    double ceiling, double maxLossPercent) {
  LoadOptions o = base;
  double good = 0, bad = ceiling;
  auto passes = [&](double rate) {
    o.rate = rate;
    return runLoad(server, legFds, o).lossPercent() <= maxLossPercent;
  };
  // Doubling from 1/16 of the ceiling, then bisection to within 3%.
  for (double rate = ceiling / 16; rate < ceiling; rate *= 2) {
    if (!passes(rate)) {
      bad = rate;
      break;
    }
    good = rate;
  }
  while (bad - good > 0.03 * bad) {
    const double mid = (good + bad) / 2;
    (passes(mid) ? good : bad) = mid;
  }
  return good;
}

}  // namespace tw::bench
