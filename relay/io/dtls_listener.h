#pragma once
// TURN over DTLS 1.2 on one UDP socket. No per-client state exists before a
// client has echoed a stateless cookie (HelloVerifyRequest, RFC 6347 §4.2.1):
// the cookie is HMAC-SHA256(per-process key, time slot || client address),
// so spoofed ClientHellos from any number of source ports cost one
// short-lived SSL object each and no memory afterwards.
//
//   datagram -> known session?  yes -> SSL (memory BIOs) -> records -> onFrame
//                               no  -> DTLSv1_listen: HelloVerifyRequest, or
//                                      valid cookie -> session (per-IP capped)
#include <event2/event.h>
#include <openssl/ssl.h>

#include <array>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

#include "relay/base/address.h"
#include "relay/base/clock.h"
#include "relay/base/log.h"
#include "relay/base/random.h"
#include "relay/base/result.h"
#include "relay/io/handles.h"
#include "relay/io/stream_connections.h"
#include "relay/io/tls_context.h"

namespace tw::io {

struct DtlsStats {
  uint64_t cookiesSent = 0;  ///< HelloVerifyRequests (no state kept).
  uint64_t sessions = 0;     ///< Sessions created after a valid cookie.
  uint64_t rejectedPerIp = 0;
  uint64_t closedHandshakeTimeout = 0;
  uint64_t closedIdle = 0;
  uint64_t closedByPeer = 0;   ///< close_notify, fatal alert or error.
  uint64_t closedRemoved = 0;  ///< The listener was removed by a reload.
};

class DtlsListener {
 public:
  using OnFrame = StreamConnections::OnFrame;
  using OnClosed = StreamConnections::OnClosed;
  using HasAllocation = StreamConnections::HasAllocation;

  DtlsListener(event_base* base, Clock& clock, Random& rng, Logger& log, OnFrame onFrame, OnClosed onClosed);
  ~DtlsListener();
  DtlsListener(const DtlsListener&) = delete;
  DtlsListener& operator=(const DtlsListener&) = delete;

  /// A DTLS server context from the PEM files with the stateless cookie
  /// callbacks installed. The callbacks find their listener through each
  /// SSL (never through the context), so one context serves this listener's
  /// socket on every worker; the error names the file.
  static Result<SharedSslCtx, std::string> makeContext(const std::string& cert, const std::string& key);

  /// `ctx`: from makeContext.
  Status<std::string> listen(const SocketAddress& local, SharedSslCtx ctx, const StreamLimits& limits);
  SocketAddress local() const { return local_; }
  /// New certificate for new sessions (a reload's TlsContexts, from
  /// makeContext); live sessions keep theirs (each SSL holds its context).
  void useContext(SharedSslCtx ctx) { ctx_ = std::move(ctx); }
  SSL_CTX* context() const { return ctx_.get(); }
  bool send(const FiveTuple& tuple, std::span<const uint8_t> bytes);
  /// Handshake/idle timeouts and DTLS retransmissions (1-second tick).
  void sweep(const HasAllocation& hasAllocation);
  /// Ends every session (close_notify, then onClosed): the listener is being
  /// removed, and its socket is the sessions' only path.
  void closeSessions();
  size_t sessionCount() const { return sessions_.size(); }
  const DtlsStats& stats() const { return stats_; }

 private:
  struct Session;
  static void onReadable(evutil_socket_t fd, short what, void* arg);
  static int generateCookie(SSL* ssl, unsigned char* cookie, unsigned int* len);
  static int verifyCookie(SSL* ssl, const unsigned char* cookie, unsigned int len);
  void cookieFor(const SocketAddress& client, uint64_t slot, std::array<uint8_t, 32>& out) const;
  /// `dst`: the local address the datagram was sent to (local_ unless the
  /// listener is bound to the wildcard, then from IP_PKTINFO).
  void onDatagram(const SocketAddress& src, const SocketAddress& dst, std::span<const uint8_t> bytes);
  void admit(const SocketAddress& src, const SocketAddress& dst, std::span<const uint8_t> bytes);
  void drive(Session& s);
  void flush(Session& s);
  void close(const SocketAddress& client, uint64_t DtlsStats::*counter);
  size_t sessionsFrom(const IpAddress& ip) const;

  event_base* base_;
  Clock& clock_;
  Logger& log_;
  OnFrame onFrame_;
  OnClosed onClosed_;
  StreamLimits limits_;
  DtlsStats stats_;
  std::array<uint8_t, 32> cookieKey_{};  ///< per listener, never in the shared context
  SharedSslCtx ctx_;
  SocketAddress local_;
  UniqueFd fd_;
  EventPtr ev_;
  std::unordered_map<SocketAddress, std::unique_ptr<Session>> sessions_;
};

}  // namespace tw::io
