#pragma once
// io_uring (liburing) on the UDP data path, where the kernel allows it.
//
//   - UringSender: the messages of one SendBatch flush reach the kernel in
//     one io_uring_enter instead of one sendmmsg per socket. At 1,000
//     allocations × 50 pps every relay socket has about one datagram per
//     loop pass, so this turns ~one syscall per packet into one per pass.
//   - UringReceiver: one multishot recvmsg per relay socket, with a ring of
//     provided buffers. Readiness and the read itself arrive together as
//     completions in shared memory, so a loop pass reads every relay socket
//     without a syscall per socket; the ring's fd is one libevent event.
//
// Both are optional: open() returns nullptr (and says why) where io_uring is
// unavailable (an old kernel, seccomp, a container's policy), and the worker
// keeps the epoll + recvmmsg/sendmmsg path. liburing stays in uring.cc.
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "relay/base/address.h"

namespace tw::io {

class UringSender {
 public:
  /// nullptr when io_uring cannot be used here; `why` then says so.
  static std::unique_ptr<UringSender> open(unsigned entries, std::string& why);
  ~UringSender();
  UringSender(const UringSender&) = delete;
  UringSender& operator=(const UringSender&) = delete;

  /// Sends msgs[i] on fds[i] (MSG_DONTWAIT, in order) and waits until the
  /// kernel has answered every one: results[i] is the byte count or -errno.
  /// One io_uring_enter per `entries` messages. false: the ring itself
  /// failed and nothing after results' filled part was sent (the caller
  /// falls back to sendmmsg).
  bool send(std::span<const int> fds, std::span<mmsghdr> msgs, std::span<int> results);
  uint64_t enters() const { return enters_; }

 private:
  struct Ring;
  explicit UringSender(std::unique_ptr<Ring> ring);
  std::unique_ptr<Ring> ring_;
  uint64_t enters_ = 0;
};

class UringReceiver {
 public:
  /// Provided buffers: each holds one datagram of up to kPayload bytes (as
  /// DatagramBatch::kSlot: larger ones are truncated and dropped as oversize).
  static constexpr unsigned kBuffers = 1024;
  static constexpr size_t kPayload = 8192;

  /// What the owner of the relay sockets answers to the completions.
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void onDatagram(uint64_t token, const SocketAddress& source, std::span<const uint8_t> payload,
                            bool truncated) = 0;
    /// The socket `token` reads, or -1 when it is gone (a stale completion).
    virtual int fdFor(uint64_t token) = 0;
    /// The multishot receive of `token` failed for good: read it another way.
    virtual void onReceiveFailed(uint64_t token, int error) = 0;
  };

  static std::unique_ptr<UringReceiver> open(std::string& why);
  ~UringReceiver();
  UringReceiver(const UringReceiver&) = delete;
  UringReceiver& operator=(const UringReceiver&) = delete;

  /// Readable (for libevent) when completions are waiting.
  int fd() const;
  /// Queues a multishot receive on `fd` whose completions carry `token`.
  /// Arms reach the kernel at the next submit() or reap(), so a loop pass
  /// that creates many allocations pays one syscall; the socket keeps what
  /// arrives meanwhile.
  bool arm(int fd, uint64_t token);
  /// Cancels `token`'s receive and returns once it is gone, so that closing
  /// the socket then releases its port at once (the request holds the file).
  /// Completions already posted for it are told apart by the token.
  void cancel(uint64_t token);
  /// Submits what arm() queued.
  void submit();
  /// Handles every waiting completion, gives the buffers back, re-arms the
  /// receives that ended (buffers ran out); returns the datagrams handled.
  size_t reap(Handler& handler);

  struct Stats {
    uint64_t datagrams = 0;
    uint64_t rearmed = 0;  ///< multishot receives that ended and were armed again
    uint64_t failed = 0;   ///< receives handed back to the epoll path
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Ring;
  explicit UringReceiver(std::unique_ptr<Ring> ring);
  void handle(Handler& handler, uint64_t token, int res, uint32_t flags);
  std::unique_ptr<Ring> ring_;
  Stats stats_;
};

}  // namespace tw::io
