#pragma once
// TURN over TCP and TLS (RFC 8656 §3.7): listeners, accepted connections,
// framing and the limits that keep a stream client from costing unbounded
// memory or sockets.
//
//   accept -> per-IP cap -> [first bytes: PROXY header, docs/transports.md]
//          -> [TLS handshake, with a deadline]
//          -> bytes -> StreamFramer -> frames -> onFrame(5-tuple, frame)
//   send(5-tuple) -> output buffer (dropped and counted above the high watermark)
//   close (peer, error, oversize, idle) -> onClosed(5-tuple): the allocation goes too
//
// Timers are swept from the worker's 1-second tick with the injected Clock,
// so tests drive handshake and idle timeouts with a ManualClock.
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/trusted_proxies.h"
#include "relay/base/address.h"
#include "relay/base/clock.h"
#include "relay/base/log.h"
#include "relay/base/result.h"
#include "relay/io/handles.h"
#include "relay/io/tls_context.h"

namespace tw::io {

/// Limits shared by every stream listener of a worker (config `transports:`).
struct StreamLimits {
  size_t maxFrameBytes = 16384;                          ///< Per-connection frame/buffer cap.
  size_t maxConnectionsPerIp = 64;                       ///< Live connections from one client IP.
  size_t outputHighWatermark = 262144;                   ///< Relay data is dropped above this backlog.
  Duration idleTimeout = std::chrono::seconds(30);       ///< Without an allocation.
  Duration handshakeTimeout = std::chrono::seconds(10);  ///< TLS handshake deadline.
  size_t peerBufferBytes = 65536;  ///< TCP relay: peer bytes held before ConnectionBind.
  /// trusted_proxies: whose PROXY header a proxy_protocol listener takes.
  policy::TrustedProxies trustedProxies;
};

/// Why connections ended or data was refused; folded into metrics/logs.
struct StreamStats {
  uint64_t accepted = 0;
  uint64_t rejectedPerIp = 0;
  uint64_t closedOversize = 0;  ///< Frame length claim above maxFrameBytes.
  uint64_t closedDesync = 0;    ///< Bytes that are neither STUN nor ChannelData.
  uint64_t closedIdle = 0;
  uint64_t closedHandshakeTimeout = 0;
  uint64_t closedByPeer = 0;       ///< EOF or socket/TLS error.
  uint64_t backpressureDrops = 0;  ///< Sends refused over the high watermark.
  uint64_t acceptErrors = 0;       ///< accept() failures (e.g. out of descriptors).
  uint64_t proxied = 0;            ///< Client address taken from a trusted proxy's header.
  uint64_t proxyRefused = 0;       ///< A PROXY header from a peer not trusted, or on a
                                   ///< listener without proxy_protocol.
  uint64_t proxyInvalid = 0;       ///< A trusted proxy's connection without a valid header.
};

/// A connection leaving StreamConnections (RFC 6062 ConnectionBind): its
/// bufferevent, with any response still queued for output, and the bytes the
/// client sent after the last STUN frame.
struct HandedOver {
  FiveTuple tuple;
  BufferEventPtr bev;
  std::vector<uint8_t> leftover;
};

class StreamConnections {
 public:
  using OnHandOver = std::function<void(HandedOver)>;
  using OnFrame = std::function<void(const FiveTuple&, std::span<const uint8_t>)>;
  using OnClosed = std::function<void(const FiveTuple&)>;
  using HasAllocation = std::function<bool(const FiveTuple&)>;

  StreamConnections(event_base* base, Clock& clock, Logger& log, OnFrame onFrame, OnClosed onClosed);
  ~StreamConnections();
  StreamConnections(const StreamConnections&) = delete;
  StreamConnections& operator=(const StreamConnections&) = delete;

  void setLimits(const StreamLimits& limits) { limits_ = limits; }
  const StreamLimits& limits() const { return limits_; }

  /// Listens on `local` (port 0 picks one). `tls` non-null makes it a TLS
  /// listener. `proxyProtocol`: a connection from limits().trustedProxies
  /// must begin with a PROXY protocol header, whose source becomes its client
  /// address. Returns the bound address; the error text names the address and errno.
  Result<SocketAddress, std::string> listen(const SocketAddress& local, SharedSslCtx tls = nullptr,
                                            bool proxyProtocol = false);
  /// Stops accepting on the listener bound to `local` with that proxyProtocol
  /// setting and closes its socket (reload; a reload that flips the setting
  /// opens the new one before closing the old). Connections it accepted run
  /// on until they close, so no live call drops. false when there is no such listener.
  bool closeListener(const SocketAddress& local, bool proxyProtocol = false);
  /// Replaces the TLS context of the listener bound to `local` (a reload's
  /// TlsContexts): new connections use it, live ones keep theirs.
  bool replaceTlsContext(const SocketAddress& local, SharedSslCtx tls);
  /// The context new connections to the TLS listener at `local` get; null
  /// when there is no such listener.
  SSL_CTX* tlsContext(const SocketAddress& local) const;
  /// Bound listener addresses (ports resolved) and whether each is TLS.
  std::vector<std::pair<SocketAddress, Transport>> addresses() const;

  /// Queues bytes for the connection of `tuple`. false when there is no such
  /// connection, or when its output backlog is over the high watermark.
  bool send(const FiveTuple& tuple, std::span<const uint8_t> bytes);
  /// Hands the connection of `tuple` to `take` once the frame being handled
  /// has returned (at once when called outside a frame): it stops being
  /// framed, leaves this table without onClosed, and no longer counts
  /// toward the per-IP cap. false when there is no such connection.
  bool handOver(const FiveTuple& tuple, OnHandOver take);
  /// Closes connections past their handshake deadline, and connections
  /// idle for idleTimeout that have no allocation.
  void sweep(const HasAllocation& hasAllocation);

  /// Open connections, those still waiting for their first bytes included.
  size_t connectionCount() const { return conns_.size() + pending_.size(); }
  /// Of those, the ones whose first bytes (a PROXY header, a TLS
  /// ClientHello) have not arrived yet.
  size_t pendingCount() const { return pending_.size(); }
  /// Open connections whose listener is `t` (Tcp or Tls): per-listener metrics.
  size_t connectionCount(Transport t) const;
  size_t connectionsFrom(const IpAddress& ip) const;
  const StreamStats& stats() const { return stats_; }

 private:
  struct Listener;
  struct Connection;
  struct Pending;

  static void onAccept(evconnlistener*, evutil_socket_t fd, sockaddr* sa, int len, void* arg);
  static void onAcceptError(evconnlistener* ev, void* arg);
  static void onRead(bufferevent* bev, void* arg);
  static void onEvent(bufferevent* bev, short what, void* arg);
  static void onFirstBytes(evutil_socket_t fd, short what, void* arg);
  void accept(Listener& l, evutil_socket_t fd, const SocketAddress& client);
  void awaitFirstBytes(const Listener& l, UniqueFd fd, const SocketAddress& peer, bool expectHeader);
  void firstBytes(Pending& p);
  void readProxyHeader(Pending& p, std::span<const uint8_t> peeked);
  void dropPending(Pending& p, uint64_t StreamStats::*counter, std::string_view why);
  void start(const Pending& p, UniqueFd fd, SocketAddress client);
  void open(const SocketAddress& local, SSL_CTX* tls, UniqueFd fd, const SocketAddress& client);
  void refused(const std::string& line);
  bool refuseProxyHeader(Connection& c, std::span<const uint8_t> first);
  void releaseIp(const IpAddress& ip);
  void readFrom(Connection& c);
  void close(Connection& c, uint64_t StreamStats::*counter, std::string_view why);
  void finishHandOver(Connection& c);
  void forget(const FiveTuple& tuple);

  event_base* base_;
  Clock& clock_;
  Logger& log_;
  OnFrame onFrame_;
  OnClosed onClosed_;
  StreamLimits limits_;
  StreamStats stats_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<FiveTuple, std::unique_ptr<Connection>> conns_;
  std::unordered_map<int, std::unique_ptr<Pending>> pending_;  ///< by socket
  Instant refusedWindow_{};         ///< Log budget for PROXY refusals: this second...
  uint32_t refusedLogged_ = 0;      ///< ...lines written in it...
  uint64_t refusedSuppressed_ = 0;  ///< ...and lines held back since the last report.
  std::unordered_map<IpAddress, size_t> perIp_;
};

}  // namespace tw::io
