#pragma once
// RelayEvents written down as lines, in order, so a test can say exactly
// what the pipeline reported: "request Allocate 403 user_blocked",
// "auth_failed blocked alice", "peer_denied 10.0.0.1:80 <rule>",
// "drop rate_limited". The same words describe an Outcome's own event list
// (describe() below), so a handler test and a pipeline test read alike.
#include <string>
#include <vector>

#include "relay/turn/allocation.h"
#include "relay/turn/events.h"
#include "relay/turn/outcome.h"

namespace tw::testing {

class RecordingEvents final : public turn::RelayEvents {
 public:
  std::vector<std::string> log;

  /// The lines that start with `prefix` ("request", "drop", ...).
  std::vector<std::string> only(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& l : log)
      if (l.rfind(prefix, 0) == 0) out.push_back(l);
    return out;
  }

  void onAllocationCreated(const turn::Allocation&) override { log.push_back("allocation_created"); }
  void onAllocationDeleted(const turn::Allocation&, std::string_view why) override {
    log.push_back("allocation_deleted " + std::string(why));
  }
  void onRequest(stun::Method m, int code, std::string_view reason, const FiveTuple&) override {
    log.push_back("request " + std::string(stun::toString(m)) + " " + std::to_string(code) + " " +
                  std::string(reason));
  }
  void onAuthFailed(std::string_view reason, const FiveTuple&, std::string_view user) override {
    log.push_back("auth_failed " + std::string(reason) + " " + std::string(user));
  }
  void onPeerDenied(const SocketAddress& peer, std::string_view rule, const FiveTuple&,
                    std::string_view) override {
    log.push_back("peer_denied " + peer.toString() + " " + std::string(rule));
  }
  void onDrop(turn::DropReason r, const SocketAddress&) override {
    log.push_back("drop " + std::string(turn::toString(r)));
  }
  void onConnectAttempt(const turn::Allocation&, const SocketAddress& peer) override {
    log.push_back("connect_attempt " + peer.toString());
  }
  void onSendTarget(const turn::Allocation&, const SocketAddress& peer) override {
    log.push_back("send_target " + peer.toString());
  }
  void onPeerRevoked(const SocketAddress& peer, std::string_view rule, const FiveTuple&,
                     std::string_view) override {
    log.push_back("peer_revoked " + peer.toString() + " " + std::string(rule));
  }
  void onBanned(const SocketAddress& source, Duration) override {
    log.push_back("banned " + source.toString());
  }
};

/// An Outcome's events in RecordingEvents' words (a PeerDenied names the
/// Outcome's detail as its rule, as respond() reports it).
inline std::vector<std::string> describe(const turn::Outcome& o) {
  using K = turn::Event::Kind;
  std::vector<std::string> out;
  for (const turn::Event& e : o.events) {
    switch (e.kind) {
      case K::AuthFailed:
        out.push_back("auth_failed " + std::string(e.text) + " " + std::string(e.username));
        break;
      case K::Banned:
        out.push_back("banned " + e.peer.toString());
        break;
      case K::PeerDenied:
        out.push_back("peer_denied " + e.peer.toString() + " " + o.detail);
        break;
      case K::ConnectAttempt:
        out.push_back("connect_attempt " + e.peer.toString());
        break;
      case K::SendTarget:
        out.push_back("send_target " + e.peer.toString());
        break;
      case K::AllocationCreated:
        out.push_back("allocation_created");
        break;
    }
  }
  return out;
}

}  // namespace tw::testing
