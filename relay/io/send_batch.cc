#include "relay/io/send_batch.h"

#include <cerrno>
#include <cstring>

namespace tw::io {

size_t SendBatch::push(int fd, const SocketAddress& to, const std::optional<IpAddress>& from,
                       std::span<const uint8_t> bytes) {
  if (bytes.size() > kArenaBytes) {  // cannot happen with 64 KiB datagrams; kept honest
    const bool ok = sendDatagramFrom(fd, to, from, bytes);
    ++stats_.syscalls;
    stats_.refused += ok ? 0 : 1;
    return ok ? 0 : 1;
  }
  size_t refused = 0;
  if (count_ == kMaxDatagrams || used_ + bytes.size() > kArenaBytes) refused = flush();
  Entry& e = entries_[count_++];
  e.fd = fd;
  e.toLen = to.toSockaddr(e.to);
  e.from = from;
  e.offset = static_cast<uint32_t>(used_);
  e.size = static_cast<uint32_t>(bytes.size());
  std::memcpy(arena_.data() + used_, bytes.data(), bytes.size());
  used_ += bytes.size();
  return refused;
}

void SendBatch::forget(int fd) {
  size_t kept = 0;
  for (size_t i = 0; i < count_; ++i)
    if (entries_[i].fd != fd) entries_[kept++] = entries_[i];
  count_ = kept;
  if (count_ == 0) used_ = 0;
}

size_t SendBatch::flush() {
  if (count_ == 0) return 0;
  // Group by socket, keeping push order inside each group (insertion sort
  // is stable, allocates nothing, and the input is usually nearly grouped).
  for (size_t i = 0; i < count_; ++i) {
    const uint16_t key = static_cast<uint16_t>(i);
    size_t j = i;
    for (; j > 0 && entries_[order_[j - 1]].fd > entries_[key].fd; --j) order_[j] = order_[j - 1];
    order_[j] = key;
  }
  // Every message first (one group per socket, in push order inside it),
  // then to the kernel: one io_uring_enter for all, or one sendmmsg per socket.
  messages_ = 0;
  for (size_t first = 0; first < count_;) {
    size_t end = first + 1;
    while (end < count_ && entries_[order_[end]].fd == entries_[order_[first]].fd) ++end;
    buildGroup(first, end);
    first = end;
  }
  size_t refused = 0;
  if (ring_) {
    refused = sendByRing();
  } else {
    for (size_t begin = 0; begin < messages_;) {
      size_t end = begin + 1;
      while (end < messages_ && msgFd_[end] == msgFd_[begin]) ++end;
      refused += sendMessages(msgFd_[begin], begin, end);
      begin = end;
    }
  }
  count_ = 0;
  used_ = 0;
  stats_.refused += refused;
  return refused;
}

size_t SendBatch::sendByRing() {
  for (size_t i = 0; i < messages_; ++i) results_[i] = kUnanswered;
  const uint64_t enters = ring_->enters();
  const bool ok =
      ring_->send({msgFd_.data(), messages_}, {msgs_.data(), messages_}, {results_.data(), messages_});
  stats_.syscalls += ring_->enters() - enters;
  if (!ok) ring_ = nullptr;  // the ring broke: sendmmsg from now on
  size_t refused = 0;
  for (size_t i = 0; i < messages_; ++i) {
    const int r = results_[i];
    if (r >= 0) {
      countSent(i);
    } else if (r == kUnanswered || r == -EAGAIN || r == -EWOULDBLOCK || segments_[i] == 1) {
      refused += segments_[i];
    } else {
      errno = -r;
      refused += resendSegments(msgFd_[i], i);
    }
  }
  return refused;
}

void SendBatch::countSent(size_t message) {
  stats_.datagrams += segments_[message];
  stats_.gsoRuns += segments_[message] > 1 ? 1 : 0;
}

bool SendBatch::joins(const Entry& run, const Entry& e, size_t segments, size_t bytes) const {
  return segments < kMaxSegments && bytes + e.size <= kMaxGsoBytes && e.size == run.size &&
         e.toLen == run.toLen && e.from == run.from && std::memcmp(&e.to, &run.to, e.toLen) == 0;
}

void SendBatch::buildGroup(size_t first, size_t end) {
  for (size_t k = first; k < end;) {
    Entry& e = entries_[order_[k]];
    size_t segments = 1, bytes = e.size;
    iov_[k] = iovec{arena_.data() + e.offset, e.size};
    // A run stops at the first datagram of this socket that does not join
    // it, so datagrams to one destination never overtake each other.
    while (gso_ && k + segments < end && joins(e, entries_[order_[k + segments]], segments, bytes)) {
      const Entry& next = entries_[order_[k + segments]];
      iov_[k + segments] = iovec{arena_.data() + next.offset, next.size};
      bytes += next.size;
      ++segments;
    }
    const size_t m = messages_++;
    mmsghdr& h = msgs_[m];
    std::memset(&h, 0, sizeof h);
    h.msg_hdr.msg_name = &e.to;
    h.msg_hdr.msg_namelen = e.toLen;
    h.msg_hdr.msg_iov = &iov_[k];
    h.msg_hdr.msg_iovlen = segments;
    setSendControl(h.msg_hdr, control_[m].bytes, e.from, segments > 1 ? static_cast<uint16_t>(e.size) : 0);
    segments_[m] = static_cast<uint16_t>(segments);
    firstOf_[m] = static_cast<uint16_t>(k);
    msgFd_[m] = e.fd;
    k += segments;
  }
}

size_t SendBatch::sendMessages(int fd, size_t begin, size_t end) {
  size_t refused = 0;
  for (size_t done = begin; done < end;) {
    const int n = ::sendmmsg(fd, &msgs_[done], static_cast<unsigned>(end - done), MSG_DONTWAIT);
    ++stats_.syscalls;
    if (n > 0) {
      for (size_t i = done; i < done + static_cast<size_t>(n); ++i) countSent(i);
      done += static_cast<size_t>(n);
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      // The socket buffer is full: the rest would fail the same way.
      for (; done < end; ++done) refused += segments_[done];
      break;
    }
    refused += segments_[done] > 1 ? resendSegments(fd, done) : 1;
    ++done;
  }
  return refused;
}

size_t SendBatch::resendSegments(int fd, size_t message) {
  // GSO refused: EIO/EOPNOTSUPP mean no GSO on this path at all (then it
  // stays off); EINVAL means this run cannot be segmented (segment larger
  // than the device MTU). Either way its datagrams go one by one.
  if (errno == EIO || errno == EOPNOTSUPP || errno == ENOPROTOOPT) gso_ = false;
  const mmsghdr& h = msgs_[message];
  const Entry& e = entries_[order_[firstOf_[message]]];
  size_t refused = 0;
  for (size_t s = 0; s < segments_[message]; ++s) {
    msghdr one{};
    one.msg_name = h.msg_hdr.msg_name;
    one.msg_namelen = h.msg_hdr.msg_namelen;
    one.msg_iov = &iov_[firstOf_[message] + s];
    one.msg_iovlen = 1;
    Control control;
    setSendControl(one, control.bytes, e.from, 0);
    ++stats_.syscalls;
    if (::sendmsg(fd, &one, MSG_DONTWAIT) >= 0)
      ++stats_.datagrams;
    else
      ++refused;
  }
  return refused;
}

}  // namespace tw::io
