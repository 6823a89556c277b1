#pragma once
// Plain loopback TCP sockets for tests of TCP relay (RFC 6062): a data
// connection that speaks STUN once (ConnectionBind) and then raw bytes, and
// a listener standing in for a peer. Every wait calls `pump` (an in-process
// worker's loop) when one is given, so the same helpers drive the harness
// and the live binary.
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "relay/base/address.h"
#include "relay/io/handles.h"
#include "relay/stun/message.h"

namespace tw::testing {

using PumpFn = std::function<void()>;

struct RawTcp {
  io::UniqueFd fd;
  std::vector<uint8_t> in;  ///< Bytes read and not yet taken.
  PumpFn pump;

  /// A non-blocking connection to `to` (loopback completes in the kernel).
  static RawTcp connectTo(const SocketAddress& to, PumpFn pump = {});
  /// Sends all of `bytes` (bounded retries); returns how many went out.
  size_t send(std::span<const uint8_t> bytes);
  size_t send(const std::string& s);
  /// Reads until `want` bytes are buffered, EOF, or about `ms` milliseconds.
  bool fill(size_t want, int ms = 2000);
  /// Removes and returns the first `n` buffered bytes.
  std::string take(size_t n);
  /// One STUN message off the stream, header first; its bytes go to `storage`.
  std::optional<stun::Message> readStun(std::vector<uint8_t>& storage);
  /// True once the other end has closed (EOF or reset) within about `ms`.
  bool closed(int ms = 2000);
  SocketAddress local() const;
};

/// Removes and returns the first `n` bytes of `in` (RawTcp, RawTls).
std::string takeBytes(std::vector<uint8_t>& in, size_t n);
/// One STUN message off the front of `in`, header first, calling `fill(k)`
/// to have k bytes buffered; its bytes go to `storage`.
std::optional<stun::Message> readStunFrom(std::vector<uint8_t>& in, std::vector<uint8_t>& storage,
                                          const std::function<bool(size_t)>& fill);

/// A listening TCP socket on 127.0.0.1 (or `at`) standing in for a peer.
struct PeerListener {
  explicit PeerListener(const char* at = "127.0.0.1:0");
  /// The next connection and its source address; nullopt after about `ms`.
  std::optional<RawTcp> accept(const PumpFn& pump, SocketAddress* from = nullptr, int ms = 2000);
  io::UniqueFd fd;
  SocketAddress addr;
};

/// A loopback TCP port nothing listens on (bound, then closed).
uint16_t closedTcpPort();

}  // namespace tw::testing
