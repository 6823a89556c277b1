#pragma once
// TCP relay connections of one worker (RFC 6062): pure state, no sockets.
//
//   client              turnwarden                      peer
//   Connect(peer) ───►  rules ok? ── connect() ───────►  (outbound: Connecting)
//          ◄─── success + CONNECTION-ID  ◄── connected   (Pending)
//   new TCP conn: ConnectionBind(id) ──► join ◄═══════►  (Bound: raw bytes)
//
//                       accept() ◄────────────────────── (inbound)
//   ◄── ConnectionAttempt(peer, id)   permission + rules ok? (Pending)
//   new TCP conn: ConnectionBind(id) ──► join ◄═══════►  (Bound)
//
// A connection that is not bound within 30 s is closed (RFC 6062 §5.2, §5.3);
// a Connect that has not completed by then is answered 447.
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "relay/base/address.h"
#include "relay/base/clock.h"
#include "relay/base/random.h"
#include "relay/stun/message.h"
#include "relay/turn/connection_directory.h"

namespace tw::turn {

enum class TcpState : uint8_t {
  Connecting,  ///< Outbound connect() in flight; the Connect request waits.
  Pending,     ///< Peer connection up, waiting for ConnectionBind.
  Bound,       ///< Joined to a client data connection; bytes flow in relay/io.
};

/// RFC 6062 §5.2 and §5.3: the 30-second deadlines.
constexpr Duration kTcpBindTimeout = std::chrono::seconds(30);

struct TcpConnection {
  uint32_t id = 0;  ///< The CONNECTION-ID: unguessable, never 0.
  uint64_t allocationId = 0;
  SocketAddress peer;
  TcpState state = TcpState::Connecting;
  bool inbound = false;
  Instant deadline{};  ///< Connecting or Pending past this: 447 / closed.
  /// Outbound: the Connect transaction, answered when connect() completes.
  stun::TransactionId connectTxn{};
  bool connectFingerprint = false;
};

class TcpConnectionTable {
 public:
  /// Ids are claimed in `directory` (shared by all workers) as `worker`'s;
  /// until then the table keeps a directory of its own.
  void attach(ConnectionDirectory& directory, uint32_t worker) {
    dir_ = &directory;
    worker_ = worker;
  }
  ConnectionDirectory& directory() { return *dir_; }
  /// A fresh CONNECTION-ID from the CSPRNG: never 0 and never one in use by
  /// any worker, so an id can be neither guessed from another nor confused
  /// with it. `user` is who may bind it (ConnectionDirectory::takeForBind).
  uint32_t newId(Random& rng, std::string_view user = {}) { return dir_->claim(rng, worker_, user); }
  TcpConnection& insert(const TcpConnection& c);
  TcpConnection* find(uint32_t id);
  /// Forgets `id` here and in the directory.
  void erase(uint32_t id);
  /// Among an allocation's connections `ids`, the one with `peer`, if any
  /// (446 Connection Already Exists).
  const TcpConnection* findPeer(std::span<const uint32_t> ids, const SocketAddress& peer) const;
  /// Ids of Connecting or Pending connections whose deadline has passed.
  std::vector<uint32_t> expired(Instant now) const;
  size_t size() const { return byId_.size(); }

 private:
  std::unordered_map<uint32_t, TcpConnection> byId_;
  ConnectionDirectory own_;
  ConnectionDirectory* dir_ = &own_;
  uint32_t worker_ = 0;
};

}  // namespace tw::turn
