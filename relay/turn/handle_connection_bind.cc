// ConnectionBind (RFC 6062 §5.4): a new TCP/TLS data connection, with the
// allocation owner's credentials, claims a peer connection. The shared
// CONNECTION-ID map gates the bind (Pending, same user, once) and names the
// worker owning the peer connection; the pipeline answers, then joins the
// data connection here or moves it to the owner.
#include "relay/turn/handlers.h"

namespace tw::turn {

namespace {
bool isStream(Transport t) { return t == Transport::Tcp || t == Transport::Tls; }

/// `id`'s record on this worker when it still waits for its bind.
TcpConnection* pendingHere(uint32_t id, ConnectionBindDeps& d) {
  TcpConnection* c = d.tcp.find(id);
  if (!c || c->state != TcpState::Pending || !d.table.findById(c->allocationId)) return nullptr;
  return c;
}
}  // namespace

// An unknown id and another user's id get the same 400, so the answer tells
// a guesser nothing.
Outcome handleConnectionBind(const RequestContext& req, ConnectionBindDeps& d) {
  if (!isStream(req.tuple.transport)) return Outcome::error(400, "connection_bind_over_udp");
  if (req.alloc) return Outcome::error(400, "control_connection");
  auto id = req.msg.connectionId();
  if (!id) return Outcome::error(400, "missing_connection_id");
  auto owner = d.tcp.directory().takeForBind(*id, req.auth.user);
  if (!owner) return Outcome::error(400, "unknown_connection_id");
  Outcome ok = Outcome::success();
  // The answer leaves on this connection before it moves or becomes a raw
  // pipe: the pipeline responds first, then hands the connection over.
  if (*owner != d.worker) {
    ok.handOver = TcpHandOver{*id, *owner};  // the owner joins it, or closes it
    return ok;
  }
  TcpConnection* c = pendingHere(*id, d);
  if (!c) return Outcome::error(400, "unknown_connection_id");
  c->state = TcpState::Bound;
  ok.handOver = TcpHandOver{c->id, std::nullopt};
  return ok;
}

bool handleMovedBind(uint32_t id, ConnectionBindDeps& d) {
  TcpConnection* c = pendingHere(id, d);
  if (!c) return false;  // the peer connection ended meanwhile
  c->state = TcpState::Bound;
  return true;
}

}  // namespace tw::turn
