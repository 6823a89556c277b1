#pragma once
// Outgoing UDP datagrams gathered over one pass of the event loop and sent
// with as few syscalls as the kernel allows:
//
//   - one sendmmsg() per socket for everything queued on it, or, with an
//     io_uring (useRing), one io_uring_enter for every socket at once;
//   - within that, a run of same-size datagrams to the same destination
//     (from the same source address) becomes ONE message with UDP GSO
//     (UDP_SEGMENT): the kernel cuts it into datagrams, so the stack is
//     walked once per run instead of once per datagram.
//
// Datagrams are copied into a fixed arena on push, so the caller's buffer
// may be reused at once and nothing is allocated per datagram. Order is kept
// per socket, hence per destination.
#include <sys/socket.h>

#include <array>
#include <climits>
#include <cstdint>
#include <optional>
#include <span>

#include "relay/base/address.h"
#include "relay/io/udp_socket.h"
#include "relay/io/uring.h"

namespace tw::io {

struct SendBatchStats {
  uint64_t datagrams = 0;  ///< handed to the kernel (GSO segments counted one by one)
  uint64_t syscalls = 0;   ///< sendmmsg/sendmsg calls
  uint64_t gsoRuns = 0;    ///< messages that carried more than one segment
  uint64_t refused = 0;    ///< datagrams the kernel refused (EAGAIN, ENOBUFS, ...)
};

class SendBatch {
 public:
  static constexpr size_t kMaxDatagrams = 256;
  static constexpr size_t kArenaBytes = 256 * 1024;
  /// Linux caps a GSO message at 64 segments (UDP_MAX_SEGMENTS) and 64 KiB.
  static constexpr size_t kMaxSegments = 64;
  static constexpr size_t kMaxGsoBytes = 65000;

  explicit SendBatch(bool gso = true) : gso_(gso) {}
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;

  /// Queues one datagram on `fd` to `to`, sent from local address `from`
  /// when set (wildcard listeners). When the batch is full it is flushed
  /// first. Returns the datagrams the kernel refused in that flush.
  size_t push(int fd, const SocketAddress& to, const std::optional<IpAddress>& from,
              std::span<const uint8_t> bytes);
  /// Sends everything queued; returns how many datagrams the kernel refused.
  size_t flush();
  bool empty() const { return count_ == 0; }
  /// Drops what is queued for `fd` (its socket is about to close).
  void forget(int fd);
  bool gso() const { return gso_; }
  /// Sends through `ring` from now on (nullptr: sendmmsg). Not owned.
  void useRing(UringSender* ring) { ring_ = ring; }
  bool usesRing() const { return ring_ != nullptr; }
  const SendBatchStats& stats() const { return stats_; }

 private:
  struct Entry {
    int fd;
    socklen_t toLen;
    sockaddr_storage to;
    std::optional<IpAddress> from;
    uint32_t offset;
    uint32_t size;
  };
  bool joins(const Entry& run, const Entry& e, size_t segments, size_t bytes) const;
  /// Builds the messages of one socket's entries order_[first, end).
  void buildGroup(size_t first, size_t end);
  /// sendmmsg of messages [begin, end), all on `fd`.
  size_t sendMessages(int fd, size_t begin, size_t end);
  size_t sendByRing();
  /// Counts message `message` as handed to the kernel (its segments, a GSO run).
  void countSent(size_t message);
  static constexpr int kUnanswered = INT_MIN;
  size_t resendSegments(int fd, size_t message);

  bool gso_;
  UringSender* ring_ = nullptr;
  size_t count_ = 0;
  size_t messages_ = 0;
  size_t used_ = 0;
  SendBatchStats stats_;
  std::array<Entry, kMaxDatagrams> entries_;
  std::array<uint16_t, kMaxDatagrams> order_;     ///< entries, stably grouped by fd
  std::array<uint16_t, kMaxDatagrams> segments_;  ///< per message: datagrams it carries
  std::array<uint16_t, kMaxDatagrams> firstOf_;   ///< per message: its first order_ slot
  std::array<int, kMaxDatagrams> msgFd_;          ///< per message: its socket
  std::array<int, kMaxDatagrams> results_;        ///< per message: the ring's answer
  std::array<mmsghdr, kMaxDatagrams> msgs_;
  std::array<iovec, kMaxDatagrams> iov_;
  struct alignas(cmsghdr) Control {
    std::array<uint8_t, kControlBytes> bytes;
  };
  std::array<Control, kMaxDatagrams> control_;
  alignas(16) std::array<uint8_t, kArenaBytes> arena_;
};

}  // namespace tw::io
