#include "relay/turn/counters.h"

namespace tw::turn {

std::string_view toString(DropReason r) {
  switch (r) {
    case DropReason::Malformed:
      return "malformed";
    case DropReason::NoAllocation:
      return "no_allocation";
    case DropReason::NoPermission:
      return "no_permission";
    case DropReason::NoChannel:
      return "no_channel";
    case DropReason::PeerDenied:
      return "peer_denied";
    case DropReason::UnexpectedClass:
      return "unexpected_class";
    case DropReason::Oversize:
      return "oversize";
    case DropReason::SendFailed:
      return "send_failed";
    case DropReason::RateLimited:
      return "rate_limited";
    case DropReason::Banned:
      return "banned";
    case DropReason::OverBandwidth:
      return "over_bandwidth";
    case DropReason::WrongTransport:
      return "wrong_transport";
    case DropReason::kCount:
      break;
  }
  return "unknown";
}

std::string_view toString(RateLimitKind k) {
  switch (k) {
    case RateLimitKind::Requests:
      return "requests";
    case RateLimitKind::Unauthenticated:
      return "unauthenticated";
    case RateLimitKind::Connect:
      return "connect";
    case RateLimitKind::kCount:
      break;
  }
  return "unknown";
}

}  // namespace tw::turn
