#include "tests/support/raw_tls.h"

#include "tests/support/raw_tcp.h"

#include <openssl/err.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <utility>

namespace tw::testing {

namespace {
std::string lastError() {
  char buf[256] = "";
  const unsigned long e = ERR_get_error();
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}
}  // namespace

std::optional<RawTls> RawTls::connectTo(const SocketAddress& to) {
  RawTls t;
  t.fd_ = io::UniqueFd(::socket(to.ip.isV4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (t.fd_.get() < 0) return std::nullopt;
  const timeval timeout{2, 0};
  ::setsockopt(t.fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(t.fd_.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_storage ss;
  const socklen_t len = to.toSockaddr(ss);
  if (::connect(t.fd_.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return std::nullopt;
  t.ctx_.reset(SSL_CTX_new(TLS_client_method()));
  if (!t.ctx_) return std::nullopt;
  SSL_CTX_set_verify(t.ctx_.get(), SSL_VERIFY_NONE, nullptr);
  t.ssl_.reset(SSL_new(t.ctx_.get()));
  if (!t.ssl_ || SSL_set_fd(t.ssl_.get(), t.fd_.get()) != 1 || SSL_connect(t.ssl_.get()) != 1)
    return std::nullopt;
  return std::optional<RawTls>(std::move(t));
}

bool RawTls::send(std::span<const uint8_t> bytes) {
  size_t written = 0;
  if (SSL_write_ex(ssl_.get(), bytes.data(), bytes.size(), &written) == 1 && written == bytes.size()) return true;
  error_ = "SSL_write: " + lastError();
  return false;
}

bool RawTls::send(const std::string& s) {
  return send(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

bool RawTls::fill(size_t want) {
  uint8_t buf[16384];
  while (in_.size() < want) {
    size_t n = 0;
    if (SSL_read_ex(ssl_.get(), buf, sizeof buf, &n) != 1) {
      error_ = "SSL_read: " + lastError();
      return false;
    }
    in_.insert(in_.end(), buf, buf + n);
  }
  return true;
}

std::string RawTls::take(size_t n) { return takeBytes(in_, n); }

std::optional<stun::Message> RawTls::readStun(std::vector<uint8_t>& storage) {
  return readStunFrom(in_, storage, [this](size_t want) { return fill(want); });
}

}  // namespace tw::testing
