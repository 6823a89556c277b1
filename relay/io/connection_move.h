#pragma once
// Moving a client stream connection from one worker's event base to
// another's (RFC 6062 ConnectionBind that SO_REUSEPORT gave to a worker
// other than the one owning the peer connection). A bufferevent belongs to
// its event base, so the connection leaves as its parts: the socket, the
// TLS session (an SSL object is not tied to a thread), the bytes the client
// sent after ConnectionBind and the output not yet written (the
// ConnectionBind response). The new worker builds a bufferevent around them.
//
//   worker B: HandedOver{bev} --detachConnection--> MovedConnection --post--> worker A
//             (TLS: posted once B's libevent has destroyed the old bufferevent)
//   worker A: MovedConnection --attachConnection(base A)--> HandedOver{bev on A}
#include <openssl/ssl.h>

#include <functional>
#include <memory>
#include <vector>

#include "relay/base/address.h"
#include "relay/io/handles.h"
#include "relay/io/stream_connections.h"
#include "relay/io/tls_handles.h"

namespace tw::io {

struct MovedConnection {
  FiveTuple tuple;
  UniqueFd fd;
  SslPtr ssl;  ///< TLS connections only
  std::vector<uint8_t> leftover;
  std::vector<uint8_t> pendingOutput;
};

/// Takes the connection out of its bufferevent (which is freed without
/// closing the socket or ending the TLS session) and gives it to `then`:
/// at once for TCP; for TLS only once libevent has destroyed the old
/// bufferevent (from the old loop, after this returns), because that
/// destruct touches the session's socket BIO.
void detachConnection(HandedOver h, std::function<void(MovedConnection)> then);
/// A bufferevent on `base` for a moved connection, with its pending output
/// queued first. nullptr (and the socket closed) if libevent refuses.
HandedOver attachConnection(event_base* base, MovedConnection m);

}  // namespace tw::io
