#pragma once
// What a request handler decided. One place (respond.cc) turns an Outcome
// into bytes and events, so handlers never build a response and never
// report: a success carries its attributes as values, an error its code,
// and what the metrics and the security log must hear rides along in
// Outcome::events.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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

/// Something a handler, the auth gate or admission saw that RelayEvents
/// must hear: respond() emits each, in order, before onRequest.
struct Event {
  enum class Kind : uint8_t {
    AuthFailed,         ///< onAuthFailed(text, tuple, username)
    Banned,             ///< onBanned(the request's source, bans.ban_for)
    PeerDenied,         ///< onPeerDenied(peer, Outcome::detail, tuple, the allocation's user)
    ConnectAttempt,     ///< onConnectAttempt(the allocation, peer)
    SendTarget,         ///< onSendTarget(the allocation, peer)
    AllocationCreated,  ///< onAllocationCreated(the 5-tuple's new allocation)
  };
  Kind kind{};
  SocketAddress peer{};
  /// AuthFailed only: a policy::AuthFailure name (static) and the request's
  /// USERNAME (a view into the request, which outlives its respond()).
  std::string_view text;
  std::string_view username;
};

/// The events of one Outcome: a fixed array, so reporting allocates
/// nothing (a Send indication carries one). No path adds more than two
/// (AuthFailed + Banned, ConnectAttempt + PeerDenied); `add` ignores a
/// fourth rather than grow.
class EventList {
 public:
  static constexpr size_t kCapacity = 3;
  void add(const Event& e) {
    if (size_ < kCapacity) items_[size_++] = e;
  }
  void add(Event::Kind k, const SocketAddress& peer = {}) { add(Event{k, peer, {}, {}}); }
  const Event* begin() const { return items_.data(); }
  const Event* end() const { return items_.data() + size_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  std::array<Event, kCapacity> items_{};
  uint8_t size_ = 0;
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
  EventList events;                     // reported by respond(), whatever the kind

  bool ok() const { return kind == Kind::Success; }
  /// Adds `e` and returns the Outcome, for `return Outcome::error(...).with(e)`.
  Outcome with(const Event& e) && {
    events.add(e);
    return std::move(*this);
  }
  Outcome with(Event::Kind k, const SocketAddress& peer = {}) && {
    return std::move(*this).with(Event{k, peer, {}, {}});
  }

  static Outcome success() { return {}; }
  static Outcome success(ResponseAttrs attrs) {
    Outcome o;
    o.attrs = std::move(attrs);
    return o;
  }
  static Outcome error(int code, std::string_view reason, std::string detail = {}) {
    return Outcome{Kind::Error, code, reason, std::move(detail)};
  }
  static Outcome dropped(DropReason r, std::string detail = {}) {
    Outcome o;
    o.kind = Kind::Drop;
    o.drop = r;
    o.reason = toString(r);
    o.detail = std::move(detail);
    return o;
  }
  static Outcome deferred() {
    Outcome o;
    o.kind = Kind::Deferred;
    return o;
  }
};

}  // namespace tw::turn
