#include "relay/turn/handlers.h"

namespace tw::turn {

// RFC 8656 §7.3.
Outcome handleRefresh(const RequestContext& req, const EndAllocation& end) {
  Allocation& a = *req.alloc;
  // RFC 8656 §7.3: a family that does not match the allocation is a 443.
  if (auto fam = req.msg.requestedAddressFamily()) {
    if (!a.servesFamily(*fam == 0x01 ? Family::V4 : Family::V6))
      return Outcome::error(443, "peer_family_mismatch");
  }
  const auto& lim = req.policy.limits;
  Duration life = std::min(lim.defaultLifetime, lim.maxLifetime);
  if (auto asked = req.msg.lifetime())
    life = std::min(Duration(std::chrono::seconds(*asked)), lim.maxLifetime);
  ResponseAttrs attrs;
  attrs.lifetime = static_cast<uint32_t>(life.count() / 1000);
  if (life.count() == 0) {
    // LIFETIME 0 deletes the allocation; the response still carries the
    // key (respond() signs with the request's, not the allocation's).
    end(a.id, "deleted");
    return Outcome::success(std::move(attrs));
  }
  a.expires = req.now + life;
  return Outcome::success(std::move(attrs));
}

}  // namespace tw::turn
