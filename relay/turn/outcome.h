#pragma once
// What a request handler decided. One place (TurnServer::respond) turns an
// Outcome into bytes and events, so handlers never build error responses.
#include <string>
#include <string_view>

#include "relay/turn/counters.h"

namespace tw::turn {

struct Outcome {
  /// Deferred: answered later (a Connect waits for its connect()).
  enum class Kind : uint8_t { Success, Error, Drop, AlreadySent, Deferred };
  Kind kind = Kind::Success;
  int code = 0;
  std::string_view reason;  // static, machine-readable ("peer_denied", ...)
  std::string detail;       // e.g. the deny rule; logged, never sent
  DropReason drop = DropReason::Malformed;

  static Outcome success() { return {}; }
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
  static Outcome alreadySent() {
    Outcome o;
    o.kind = Kind::AlreadySent;
    return o;
  }
  static Outcome deferred() {
    Outcome o;
    o.kind = Kind::Deferred;
    return o;
  }
};

}  // namespace tw::turn
