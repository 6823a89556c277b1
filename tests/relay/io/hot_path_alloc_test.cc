// The relay path allocates nothing per packet: 10,000 ChannelData packets
// client -> peer and 10,000 datagrams peer -> client through a real Worker on
// loopback, then 10,000 Send indications with the relay_scan detector's
// SendTargets in the worker's fan-out, with every operator new (this binary
// replaces them) and every
// libevent allocation (event_set_mem_functions) counted while the loop runs.
// Only the worker's loop runs while counting; the test's own sends and
// receives are plain syscalls into stack buffers.
#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>

#include "metrics/send_targets.h"
#include "relay/stun/builder.h"
#include "relay/stun/channel_data.h"
#include "tests/relay/io/harness.h"

namespace {

std::atomic<bool> counting{false};
std::atomic<uint64_t> allocations{0};

void* countedMalloc(size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n);
}
void* countedRealloc(void* p, size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return std::realloc(p, n);
}
void* allocate(size_t n) {
  void* p = countedMalloc(n == 0 ? 1 : n);
  if (!p) throw std::bad_alloc();
  return p;
}
void* allocateAligned(size_t n, std::align_val_t a) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  const size_t align = static_cast<size_t>(a);
  void* p = std::aligned_alloc(align, (n + align - 1) / align * align);
  if (!p) throw std::bad_alloc();
  return p;
}

/// Routes libevent's allocations through the counter; must run before the
/// first event_base exists, hence at static initialisation of this binary.
const bool kLibeventCounted = [] {
  event_set_mem_functions(countedMalloc, countedRealloc, std::free);
  return true;
}();

}  // namespace

void* operator new(size_t n) { return allocate(n); }
void* operator new[](size_t n) { return allocate(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return countedMalloc(n == 0 ? 1 : n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return countedMalloc(n == 0 ? 1 : n); }
void* operator new(size_t n, std::align_val_t a) { return allocateAligned(n, a); }
void* operator new[](size_t n, std::align_val_t a) { return allocateAligned(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }

namespace tw::testing {
namespace {

constexpr int kPackets = 10000;
constexpr int kBurst = 16;

void sendRaw(int fd, const SocketAddress& to, std::span<const uint8_t> bytes) {
  sockaddr_storage ss;
  const socklen_t len = to.toSockaddr(ss);
  ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
}

int drain(int fd) {
  std::array<uint8_t, 2048> buf;
  int n = 0;
  while (::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT) >= 0) ++n;
  return n;
}

/// Sends kPackets from `fromFd` to `to` in bursts, pumping the worker (the
/// only code that runs with the counter on) and draining `sinkFd` after each
/// burst. Returns the datagrams that arrived; allocations are in the counter.
int relayCounted(Harness& h, int fromFd, const SocketAddress& to, std::span<const uint8_t> bytes,
                 int sinkFd) {
  int received = 0;
  for (int sent = 0; sent < kPackets; sent += kBurst) {
    for (int i = 0; i < kBurst; ++i) sendRaw(fromFd, to, bytes);
    for (int spin = 0; spin < 100 && received < sent + kBurst; ++spin) {
      counting = true;
      h.pump();
      counting = false;
      received += drain(sinkFd);
      if (received < sent + kBurst) ::usleep(100);
    }
  }
  return received;
}

}  // namespace

TEST_CASE("relaying 10000 packets each way allocates nothing per packet", "[io][hot_path]") {
  REQUIRE(kLibeventCounted);
  // The manual clock never refills the bandwidth bucket: no per-allocation cap.
  Harness h(kAllowLoopback + "quotas:\n  max_bps: 0\n");
  StunClient c = h.authedClient();
  auto alloc = c.allocate();
  REQUIRE(alloc);
  REQUIRE(alloc->code == 0);
  const SocketAddress relayed = *alloc->msg().xorRelayedAddress();
  UdpPeer peer;
  REQUIRE(c.channelBind(0x4000, peer.addr)->code == 0);
  std::vector<uint8_t> frame;
  const std::vector<uint8_t> payload(160, 0xAB);  // an Opus frame
  stun::encodeChannelData(frame, 0x4000, payload, false);
  // Warm-up: first use of each path may size buffers once.
  relayCounted(h, c.fd(), h.address, frame, peer.fd.get());
  relayCounted(h, peer.fd.get(), relayed, payload, c.fd());

  allocations = 0;
  CHECK(relayCounted(h, c.fd(), h.address, frame, peer.fd.get()) == kPackets);
  CHECK(allocations.load() == 0);
  allocations = 0;
  CHECK(relayCounted(h, peer.fd.get(), relayed, payload, c.fd()) == kPackets);
  CHECK(allocations.load() == 0);
}

TEST_CASE("relaying 10000 Send indications allocates nothing per packet, destinations counted",
          "[io][hot_path]") {
  REQUIRE(kLibeventCounted);
  // The server's SendTargets, declared first: the worker reports to it
  // until it stops (its last allocations' deletion).
  ManualClock clock;
  CsprngRandom seeds;
  metrics::SendTargets sends(clock, seeds);
  Harness h(kAllowLoopback + "quotas:\n  max_bps: 0\n");
  h.events.add(sends, /*sendTargets=*/true);
  StunClient c = h.authedClient();
  REQUIRE(c.allocate()->code == 0);
  UdpPeer peer;
  REQUIRE(c.createPermission(peer.addr)->code == 0);
  std::vector<uint8_t> indication;
  const std::vector<uint8_t> payload(160, 0xAB);
  stun::MessageBuilder b(indication, stun::Method::Send, stun::MessageClass::Indication,
                         stun::TransactionId{});
  b.addXorAddress(stun::attr::XorPeerAddress, peer.addr);
  b.addBytes(stun::attr::Data, payload);
  // Warm-up: the allocation's first Send makes its tracker entry.
  relayCounted(h, c.fd(), h.address, indication, peer.fd.get());

  allocations = 0;
  CHECK(relayCounted(h, c.fd(), h.address, indication, peer.fd.get()) == kPackets);
  CHECK(allocations.load() == 0);
  uint64_t id = 0;
  h.server().allocations().forEach([&](turn::Allocation& a) { id = a.id; });
  CHECK(sends.distinct(id) == 1);  // every Send reached the tracker: one destination
  CHECK(sends.size() == 1);
}

}  // namespace tw::testing
