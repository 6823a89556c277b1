#pragma once
// A blocking TLS client connection on loopback for tests against the live
// binary: a TURN-over-TLS data connection (RFC 6062 ConnectionBind, then raw
// bytes). The server's certificate is not verified (tests use throw-away
// self-signed ones); reads time out after about two seconds.
#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "relay/base/address.h"
#include "relay/io/handles.h"
#include "relay/io/tls_handles.h"
#include "relay/stun/message.h"

namespace tw::testing {

class RawTls {
 public:
  /// Connects and completes the handshake; nullopt when either fails.
  static std::optional<RawTls> connectTo(const SocketAddress& to);
  /// One SSL_write of all of `bytes`; false on a TLS or socket error.
  bool send(std::span<const uint8_t> bytes);
  bool send(const std::string& s);
  /// Reads until `want` bytes are buffered; false on error, EOF or timeout.
  bool fill(size_t want);
  /// Removes and returns the first `n` buffered bytes.
  std::string take(size_t n);
  /// One STUN message off the stream; its bytes go to `storage`.
  std::optional<stun::Message> readStun(std::vector<uint8_t>& storage);
  /// The last TLS error seen (OpenSSL's text), for failure messages.
  const std::string& error() const { return error_; }

 private:
  RawTls() = default;
  io::UniqueFd fd_;  // declared first: closed after the session is freed
  io::SslCtxPtr ctx_;
  io::SslPtr ssl_;
  std::vector<uint8_t> in_;
  std::string error_;
};

}  // namespace tw::testing
