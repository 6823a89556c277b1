#pragma once
// The one way a C handle is owned in this tree: `Handle<T, Free>` is a
// std::unique_ptr whose deleter calls the library's own free function
// (OpenSSL, libevent, hiredis, libmicrohttpd, ...), and `UniqueFd` owns a
// file descriptor. Nothing frees a handle by hand.
#include <unistd.h>

#include <memory>
#include <utility>

namespace tw {

/// Calls `Free` on a non-null pointer. Free may take the pointer as it is or
/// as void* (hiredis's freeReplyObject).
template <auto Free>
struct HandleFree {
  template <class T>
  void operator()(T* p) const {
    if (p != nullptr) Free(p);
  }
};

/// An owned C handle: `Handle<X509, X509_free> cert(PEM_read_bio_X509(...))`.
template <class T, auto Free>
using Handle = std::unique_ptr<T, HandleFree<Free>>;

/// An owned file descriptor (-1: none).
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  /// Gives up ownership (the caller closes it).
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

}  // namespace tw
