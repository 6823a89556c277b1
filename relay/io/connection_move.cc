#include "relay/io/connection_move.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>

namespace tw::io {

namespace {
/// What `buf` holds. A bufferevent freezes the start of its output buffer
/// (only its writer may drain it), and a frozen buffer refuses to be read:
/// thawed first, since the bufferevent is freed right after anyway.
std::vector<uint8_t> contents(evbuffer* buf) {
  evbuffer_unfreeze(buf, 1);
  std::vector<uint8_t> out(evbuffer_get_length(buf));
  if (!out.empty() && evbuffer_copyout(buf, out.data(), out.size()) != static_cast<ev_ssize_t>(out.size()))
    out.clear();
  return out;
}
}  // namespace

void detachConnection(HandedOver h, std::function<void(MovedConnection)> then) {
  MovedConnection m;
  m.tuple = h.tuple;
  m.leftover = std::move(h.leftover);
  bufferevent* bev = h.bev.get();
  evbuffer* out = bufferevent_get_output(bev);
  m.pendingOutput = contents(out);
  SSL* ssl = bufferevent_openssl_get_ssl(bev);
  m.fd = UniqueFd(bufferevent_getfd(bev));
  if (!ssl) {
    bufferevent_setfd(bev, -1);  // freed below without closing the socket
    h.bev.reset();
    return then(std::move(m));
  }
  // Keep the session past bufferevent_free (it drops one reference), and
  // detach its socket BIO so the free does not close the socket.
  SSL_up_ref(ssl);
  SSL_set_bio(ssl, nullptr, nullptr);
  m.ssl.reset(ssl);
  // libevent destroys a bufferevent later, from its loop; that destruct
  // closes the fd of the session's BIO *at that time* and frees the session.
  // Had the new owner attached already, that would be its BIO and socket (a
  // TLS ConnectionBind moved across workers then failed with "bad record
  // mac" or a closed socket). So the session leaves only once the old
  // bufferevent is gone: its output buffer is freed right after the
  // destruct, and freeing it runs the cleanup of this one-byte reference.
  struct Pending {
    MovedConnection moved;
    std::function<void(MovedConnection)> then;
  };
  static constexpr uint8_t kMarker = 0;
  auto* pending = new Pending{std::move(m), std::move(then)};
  auto release = [](const void*, size_t, void* arg) {
    std::unique_ptr<Pending> p(static_cast<Pending*>(arg));
    p->then(std::move(p->moved));
  };
  if (evbuffer_add_reference(out, &kMarker, 1, release, pending) != 0) {
    std::unique_ptr<Pending> p(pending);  // cannot happen (allocation failed): the connection closes
    h.bev.reset();
    return;
  }
  h.bev.reset();
}

HandedOver attachConnection(event_base* base, MovedConnection m) {
  HandedOver h;
  h.tuple = m.tuple;
  h.leftover = std::move(m.leftover);
  const int fd = m.fd.get();
  bufferevent* bev = m.ssl ? bufferevent_openssl_socket_new(base, fd, m.ssl.get(), BUFFEREVENT_SSL_OPEN,
                                                            BEV_OPT_CLOSE_ON_FREE)
                           : bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) return h;  // m's destructor closes the socket and frees the session
  (void)m.fd.release();
  (void)m.ssl.release();  // the bufferevent owns both now
  h.bev.reset(bev);
  if (!m.pendingOutput.empty()) bufferevent_write(bev, m.pendingOutput.data(), m.pendingOutput.size());
  return h;
}

}  // namespace tw::io
