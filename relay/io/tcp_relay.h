#pragma once
// The sockets of TCP relay (RFC 6062) for one worker: a listening socket on
// each TCP allocation's relayed address, outbound connections bound to that
// same address, and the pipes that join a peer connection to a client data
// connection once ConnectionBind succeeds. relay/turn decides; this moves
// bytes.
//
//   peer bev ──(early data held, reading stops at peerBufferBytes)──┐
//                                                                   ├─ join(id)
//   client bev (handed over by StreamConnections after ConnectionBind)┘
//   joined:  peer input ──► client output,  client input ──► peer output
//            (zero-copy evbuffer moves; reading pauses while the other side's
//             output is above the high watermark; max_bps via libevent's
//             per-bufferevent rate limit)
//   EOF on one side: the other side's queued output is flushed, then both close.
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "relay/base/address.h"
#include "relay/base/log.h"
#include "relay/base/result.h"
#include "relay/io/handles.h"
#include "relay/io/stream_connections.h"

namespace tw::io {

struct TcpRelayCallbacks {
  /// An inbound connection on allocation `allocationId`'s relayed address:
  /// its CONNECTION-ID, or nullopt to refuse it (the socket is closed).
  std::function<std::optional<uint32_t>(uint64_t allocationId, const SocketAddress& peer)> accepted;
  /// An outbound connect() finished.
  std::function<void(uint32_t id, bool ok)> connected;
  /// A peer connection ended on its own (not through close()).
  std::function<void(uint32_t id)> closed;
  std::function<void(uint32_t id, bool toPeer, size_t bytes)> relayed;
};

struct TcpRelayStats {
  uint64_t accepted = 0;       ///< Inbound peer connections offered to the core.
  uint64_t refused = 0;        ///< ... and refused by it.
  uint64_t connectsStarted = 0;
  uint64_t joined = 0;         ///< ConnectionBinds that became pipes.
};

class TcpRelay {
 public:
  TcpRelay(event_base* base, Logger& log, TcpRelayCallbacks cb);
  ~TcpRelay();
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  /// peerBufferBytes: early peer data held before ConnectionBind;
  /// highWatermark: output backlog at which the other side stops being read.
  void setLimits(size_t peerBufferBytes, size_t highWatermark);
  /// Listens on `local` with SO_REUSEADDR and SO_REUSEPORT, so outbound
  /// connects can bind the same relayed address. Returns a listener index.
  Result<uint32_t, int> listen(const SocketAddress& local, uint64_t allocationId);
  void closeListener(uint32_t index);
  /// Non-blocking connect from listener `index`'s address to `peer`.
  bool connect(uint32_t index, const SocketAddress& peer, uint32_t id);
  /// Joins the pending peer connection `id` to a handed-over client data
  /// connection. false (and the client is closed) when `id` is gone.
  bool join(uint32_t id, HandedOver client, uint64_t maxBps);
  /// Closes connection `id` (both sides) without calling back.
  void close(uint32_t id);

  size_t connectionCount() const { return pipes_.size(); }
  size_t listenerCount() const;
  const TcpRelayStats& stats() const { return stats_; }

 private:
  struct Listener;
  struct Pipe;

  static void onAccept(evconnlistener*, evutil_socket_t fd, sockaddr* sa, int len, void* arg);
  static void onPeerRead(bufferevent* bev, void* arg);
  static void onClientRead(bufferevent* bev, void* arg);
  static void onPeerWrite(bufferevent* bev, void* arg);
  static void onClientWrite(bufferevent* bev, void* arg);
  static void onPeerEvent(bufferevent* bev, short what, void* arg);
  static void onClientEvent(bufferevent* bev, short what, void* arg);

  void accept(Listener& l, UniqueFd fd, const SocketAddress& peer);
  Pipe& addPipe(uint32_t id, bufferevent* peerBev);
  void forward(Pipe& p, bool toPeer);
  void resumeReading(Pipe& p, bool peerSide);
  void sideEnded(Pipe& p, bool peerSide, short what);
  void finish(uint32_t id, bool notify);

  event_base* base_;
  Logger& log_;
  TcpRelayCallbacks cb_;
  size_t peerBufferBytes_ = 65536;
  size_t highWatermark_ = 262144;
  TcpRelayStats stats_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<uint32_t> freeListeners_;
  std::unordered_map<uint32_t, std::unique_ptr<Pipe>> pipes_;
};

}  // namespace tw::io
