#pragma once
// Between the two files of the Allocate handler: handle_allocate.cc asks
// handle_dual_allocate.cc for the second (IPv6) relayed address of a
// dual-stack allocation (RFC 8656 §7.2, ADDITIONAL-ADDRESS-FAMILY).
#include "relay/turn/handlers.h"

namespace tw::turn {

/// 400 for an ADDITIONAL-ADDRESS-FAMILY other than IPv6 or next to a token.
Outcome checkAdditionalFamily(const stun::Message& m);
/// Opens the IPv6 relay next to `a`'s IPv4 one: 0, or the error code (440,
/// 508) that ADDRESS-ERROR-CODE reports while the allocation still succeeds.
int openAdditionalRelay(const RequestContext& req, AllocateDeps& d, Allocation& a);
/// The second XOR-RELAYED-ADDRESS, or ADDRESS-ERROR-CODE for `error`.
void addAdditionalRelayed(ResponseAttrs& attrs, const Allocation& a, int error);

}  // namespace tw::turn
