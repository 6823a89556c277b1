#include "relay/turn/handlers.h"

namespace tw::turn {

// RFC 8489 §6.3.1.1: reflect the source address. Nothing else is added so
// the answer is barely larger than the question (no amplification).
Outcome handleBinding(const RequestContext& req) {
  ResponseAttrs attrs;
  attrs.mapped = req.tuple.client;
  return Outcome::success(std::move(attrs));
}

}  // namespace tw::turn
