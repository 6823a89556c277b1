#include "relay/io/uring.h"

#include <liburing.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

namespace tw::io {

namespace {
/// user_data of cancel requests: their completions carry no datagram.
constexpr uint64_t kCancelTag = ~uint64_t{0};
constexpr unsigned kBufferGroup = 0;
/// Each provided buffer: the recvmsg header, the source address, the payload.
constexpr size_t kBufferBytes = sizeof(io_uring_recvmsg_out) + sizeof(sockaddr_storage) +
                                UringReceiver::kPayload;

std::string describe(int error) { return std::strerror(error < 0 ? -error : error); }

/// A free submission entry, submitting what is queued first when the
/// queue is full; nullptr only if even that fails.
io_uring_sqe* freeSqe(io_uring* ring) {
  if (io_uring_sqe* sqe = io_uring_get_sqe(ring)) return sqe;
  io_uring_submit(ring);
  return io_uring_get_sqe(ring);
}
}  // namespace

// ----------------------------------------------------------------- sender

struct UringSender::Ring {
  io_uring ring{};
  unsigned entries = 0;
  ~Ring() { io_uring_queue_exit(&ring); }
};

std::unique_ptr<UringSender> UringSender::open(unsigned entries, std::string& why) {
  auto r = std::make_unique<Ring>();
  if (const int rc = io_uring_queue_init(entries, &r->ring, 0); rc < 0) {
    why = "io_uring_queue_init: " + describe(rc);
    return nullptr;
  }
  r->entries = entries;
  return std::unique_ptr<UringSender>(new UringSender(std::move(r)));
}

UringSender::UringSender(std::unique_ptr<Ring> ring) : ring_(std::move(ring)) {}
UringSender::~UringSender() = default;

bool UringSender::send(std::span<const int> fds, std::span<mmsghdr> msgs, std::span<int> results) {
  io_uring* ring = &ring_->ring;
  for (size_t done = 0; done < msgs.size();) {
    const size_t n = std::min<size_t>(msgs.size() - done, ring_->entries);
    for (size_t i = done; i < done + n; ++i) {
      io_uring_sqe* sqe = io_uring_get_sqe(ring);
      if (!sqe) return false;  // cannot happen: the queue is empty between calls
      // MSG_DONTWAIT: a full socket buffer completes with -EAGAIN at once
      // instead of parking the request, so the wait below is bounded.
      io_uring_prep_sendmsg(sqe, fds[i], &msgs[i].msg_hdr, MSG_DONTWAIT);
      io_uring_sqe_set_data64(sqe, i);
    }
    ++enters_;
    const int rc = io_uring_submit_and_wait(ring, static_cast<unsigned>(n));
    if (rc < 0 && rc != -EINTR) return false;
    for (size_t seen = 0; seen < n;) {
      io_uring_cqe* cqe = nullptr;
      if (const int w = io_uring_wait_cqe(ring, &cqe); w < 0) {
        if (w == -EINTR) continue;
        return false;
      }
      const uint64_t i = io_uring_cqe_get_data64(cqe);
      if (i < results.size()) results[i] = cqe->res;
      io_uring_cqe_seen(ring, cqe);
      ++seen;
    }
    done += n;
  }
  return true;
}

// --------------------------------------------------------------- receiver

struct UringReceiver::Ring {
  io_uring ring{};
  io_uring_buf_ring* buffers = nullptr;
  size_t ringBytes = 0;
  std::vector<uint8_t> storage;  ///< kBuffers × kBufferBytes, allocated once
  msghdr shape{};                ///< what every receive asks for: a name, no control
  unsigned returned = 0;         ///< buffers added since the last advance
  ~Ring() {
    io_uring_queue_exit(&ring);  // before the buffers it may still write to go
    if (buffers) ::munmap(buffers, ringBytes);
  }
  uint8_t* buffer(unsigned id) { return storage.data() + size_t{id} * kBufferBytes; }
  void giveBack(unsigned id) {
    io_uring_buf_ring_add(buffers, buffer(id), kBufferBytes, static_cast<unsigned short>(id),
                          io_uring_buf_ring_mask(kBuffers), static_cast<int>(returned++));
  }
  void publish() {
    if (returned) io_uring_buf_ring_advance(buffers, static_cast<int>(returned));
    returned = 0;
  }
};

std::unique_ptr<UringReceiver> UringReceiver::open(std::string& why) {
  auto r = std::make_unique<Ring>();
  // A CQ large enough for one pass over many busy sockets; the SQ holds arms.
  io_uring_params p{};
  // COOP_TASKRUN (5.19+): a completion for a worker that is running does not
  // interrupt it (no IPI per datagram); it is posted at the worker's next
  // kernel entry, and a worker asleep in epoll_wait is still woken.
  p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN;
  p.cq_entries = 4 * kBuffers;
  int rc = io_uring_queue_init_params(256, &r->ring, &p);
  if (rc == -EINVAL) {  // an older kernel: without it
    p = io_uring_params{};
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = 4 * kBuffers;
    rc = io_uring_queue_init_params(256, &r->ring, &p);
  }
  if (rc < 0) {
    why = "io_uring_queue_init: " + describe(rc);
    return nullptr;
  }
  r->ringBytes = kBuffers * sizeof(io_uring_buf);
  void* mem = ::mmap(nullptr, r->ringBytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) {
    why = "mmap of the buffer ring: " + describe(errno);
    return nullptr;
  }
  r->buffers = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_ring_init(r->buffers);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(r->buffers);
  reg.ring_entries = kBuffers;
  reg.bgid = kBufferGroup;
  if (const int rc = io_uring_register_buf_ring(&r->ring, &reg, 0); rc < 0) {
    why = "io_uring_register_buf_ring (kernel >= 5.19): " + describe(rc);
    return nullptr;
  }
  r->storage.resize(size_t{kBuffers} * kBufferBytes);
  for (unsigned id = 0; id < kBuffers; ++id) r->giveBack(id);
  r->publish();
  r->shape.msg_namelen = sizeof(sockaddr_storage);
  return std::unique_ptr<UringReceiver>(new UringReceiver(std::move(r)));
}

UringReceiver::UringReceiver(std::unique_ptr<Ring> ring) : ring_(std::move(ring)) {}
UringReceiver::~UringReceiver() = default;

int UringReceiver::fd() const { return ring_->ring.ring_fd; }

void UringReceiver::submit() {
  if (io_uring_sq_ready(&ring_->ring)) io_uring_submit(&ring_->ring);
}

bool UringReceiver::arm(int fd, uint64_t token) {
  io_uring_sqe* sqe = freeSqe(&ring_->ring);
  if (!sqe) return false;
  io_uring_prep_recvmsg_multishot(sqe, fd, &ring_->shape, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kBufferGroup;
  io_uring_sqe_set_data64(sqe, token);
  return true;
}

void UringReceiver::cancel(uint64_t token) {
  // Synchronous (IORING_REGISTER_SYNC_CANCEL, kernel 6.0+): the request holds
  // the socket's file, so its port stays bound until the cancel is done; a
  // port freed by a deleted allocation must be bindable at once. Queued arms
  // go first, so a socket armed and closed in one pass is found.
  submit();
  io_uring_sync_cancel_reg reg{};
  reg.addr = token;
  reg.timeout.tv_sec = -1;
  reg.timeout.tv_nsec = -1;
  const int rc = io_uring_register_sync_cancel(&ring_->ring, &reg);
  if (rc >= 0 || rc == -ENOENT) return;  // cancelled, or it had already ended
  // An older kernel: the asynchronous cancel, submitted at once.
  io_uring_sqe* sqe = freeSqe(&ring_->ring);
  if (!sqe) return;
  io_uring_prep_cancel64(sqe, token, 0);
  io_uring_sqe_set_data64(sqe, kCancelTag);
  io_uring_submit(&ring_->ring);
}

size_t UringReceiver::reap(Handler& handler) {
  io_uring* ring = &ring_->ring;
  const uint64_t before = stats_.datagrams;
  // Bounded: what is waiting now, at most a few rounds of it.
  for (int round = 0; round < 4; ++round) {
    io_uring_cqe* cqes[256];
    const unsigned n = io_uring_peek_batch_cqe(ring, cqes, 256);
    if (n == 0) break;
    for (unsigned i = 0; i < n; ++i) {
      const uint64_t token = io_uring_cqe_get_data64(cqes[i]);
      const int res = cqes[i]->res;
      const uint32_t flags = cqes[i]->flags;
      if (token != kCancelTag) handle(handler, token, res, flags);
    }
    io_uring_cq_advance(ring, n);
    ring_->publish();
  }
  submit();  // the re-arms, and arms queued since the last submit
  return static_cast<size_t>(stats_.datagrams - before);
}

void UringReceiver::handle(Handler& handler, uint64_t token, int res, uint32_t flags) {
  if (flags & IORING_CQE_F_BUFFER) {
    const unsigned id = flags >> IORING_CQE_BUFFER_SHIFT;
    uint8_t* buf = ring_->buffer(id);
    io_uring_recvmsg_out* out = res > 0 ? io_uring_recvmsg_validate(buf, res, &ring_->shape) : nullptr;
    if (out && handler.fdFor(token) >= 0) {
      auto source = SocketAddress::fromSockaddr(static_cast<const sockaddr*>(io_uring_recvmsg_name(out)));
      const auto* payload = static_cast<const uint8_t*>(io_uring_recvmsg_payload(out, &ring_->shape));
      const size_t len = io_uring_recvmsg_payload_length(out, res, &ring_->shape);
      ++stats_.datagrams;
      if (source) handler.onDatagram(token, *source, {payload, len}, (out->flags & MSG_TRUNC) != 0);
    }
    ring_->giveBack(id);
  }
  if (flags & IORING_CQE_F_MORE) return;  // the multishot receive goes on
  if (res == -ECANCELED) return;           // closed by cancel()
  const int fd = handler.fdFor(token);
  if (fd < 0) return;
  // It ended: buffers ran out (-ENOBUFS) or the kernel stopped it. Arm it
  // again; any other error hands the socket back to the epoll path.
  if ((res >= 0 || res == -ENOBUFS) && arm(fd, token)) {  // submitted by reap()
    ++stats_.rearmed;
    return;
  }
  ++stats_.failed;
  handler.onReceiveFailed(token, res < 0 ? -res : EIO);
}

}  // namespace tw::io
