#pragma once
// What a request handler decided. One place (TurnServer::respond) turns an
// Outcome into bytes and events, so handlers never build a response: a
// success carries its attributes as values, an error its code.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/address.h"
#include "relay/turn/counters.h"

namespace tw::turn {

/// The attributes of a success response, encoded by respond() in this
/// order (before SOFTWARE, MESSAGE-INTEGRITY and FINGERPRINT).
struct ResponseAttrs {
  std::optional<SocketAddress> relayed;   ///< XOR-RELAYED-ADDRESS
  std::optional<SocketAddress> relayed2;  ///< the second (IPv6) one, dual-stack
  std::vector<uint8_t> addressError;      ///< ADDRESS-ERROR-CODE value, when the second failed
  std::optional<uint32_t> lifetime;       ///< LIFETIME, seconds
  std::optional<uint64_t> reservationToken;
  std::optional<SocketAddress> mapped;   ///< XOR-MAPPED-ADDRESS
  std::optional<uint32_t> connectionId;  ///< CONNECTION-ID (RFC 6062)
};

/// ConnectionBind (RFC 6062 §5.4): once its success answer has left on the
/// data connection, the pipeline joins that connection to peer connection
/// `id` here, or moves it to worker `owner`, which holds the peer connection.
struct TcpHandOver {
  uint32_t id = 0;
  std::optional<uint32_t> owner;  ///< set: another worker's connection
};

struct Outcome {
  /// Deferred: answered later (a Connect waits for its connect()).
  enum class Kind : uint8_t { Success, Error, Drop, Deferred };
  Kind kind = Kind::Success;
  int code = 0;
  std::string_view reason;  // static, machine-readable ("peer_denied", ...)
  std::string detail;       // e.g. the deny rule; logged, never sent
  DropReason drop = DropReason::Malformed;
  ResponseAttrs attrs;                  // Success only
  std::optional<TcpHandOver> handOver;  // Success of a ConnectionBind only

  static Outcome success() { return {}; }
  static Outcome success(ResponseAttrs attrs) {
    Outcome o;
    o.attrs = std::move(attrs);
    return o;
  }
  static Outcome error(int code, std::string_view reason, std::string detail = {}) {
    return Outcome{Kind::Error, code, reason, std::move(detail)};
  }
  static Outcome dropped(DropReason r) {
    Outcome o;
    o.kind = Kind::Drop;
    o.drop = r;
    o.reason = toString(r);
    return o;
  }
  static Outcome deferred() {
    Outcome o;
    o.kind = Kind::Deferred;
    return o;
  }
};

}  // namespace tw::turn
