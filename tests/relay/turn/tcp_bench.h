#pragma once
// The TCP relay (RFC 6062) steps shared by handle_connect_test.cc,
// handle_connection_bind_test.cc and handle_tcp_peer_test.cc: a Connect
// through the pipeline or straight to its handler, and a peer connection
// brought to the point where a ConnectionBind may take it.
#include <optional>
#include <string>

#include "tests/relay/turn/handler_bench.h"

namespace tw::testing {

/// A Connect to `peer` through the pipeline (nullopt: deferred, no answer yet).
inline std::optional<PipelineReply> connect(PipelineClient& c, const SocketAddress& peer) {
  return c.request(stun::Method::Connect,
                   [&](stun::MessageBuilder& b) { b.addXorAddress(stun::attr::XorPeerAddress, peer); });
}

/// The answer the server sent later (a deferred Connect), decoded.
inline std::optional<PipelineReply> laterAnswer(Pipeline& p) {
  auto sent = p.io.takeToClient();
  if (!sent) return std::nullopt;
  PipelineReply r{sent->bytes, -1};
  auto ec = r.msg().errorCode();
  r.code = ec ? ec->code : 0;
  return r;
}

/// handleConnect from `from` to `peer` (none: no XOR-PEER-ADDRESS); its
/// events go to h.reported.
inline std::string connectTo(HandlerBench& h, const FiveTuple& from, std::optional<SocketAddress> peer) {
  auto req = h.request(
      stun::Method::Connect,
      [&](stun::MessageBuilder& b) {
        if (peer) b.addXorAddress(stun::attr::XorPeerAddress, *peer);
      },
      from);
  auto d = h.connectDeps();
  return answer(h.keep(turn::handleConnect(req, d)));
}

/// A TCP allocation on `ctl` with one peer connection to kPeer, still Connecting.
inline uint32_t connecting(HandlerBench& h, const FiveTuple& ctl) {
  h.allocate(ctl, 6);
  REQUIRE(connectTo(h, ctl, kPeer) == "deferred");
  return h.io.connects.back().id;
}

/// connect() completed (handleConnectDone): a ConnectionBind may take `id` now.
inline void connected(HandlerBench& h, uint32_t id) {
  REQUIRE(answer(turn::handleConnectDone(*h.tcp.find(id), true, h.clock.now(), h.tcp)) == "success");
}

}  // namespace tw::testing
