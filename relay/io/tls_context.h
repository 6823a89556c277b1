#pragma once
// Server-side TLS settings for TURN over TLS (RFC 8656 §3.7 and RFC 7443):
// one SSL_CTX per listener, built from PEM files, TLS 1.2 and 1.3 only,
// forward-secret AEAD suites, and ALPN "stun.turn" / "stun.nat-discovery".
//
// A reload builds a fresh SSL_CTX per listener, once, shared by every
// worker (TlsContexts, carried in the policy snapshot); live connections keep
// a reference to the old one (every SSL holds its SSL_CTX), so they are not
// dropped.
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "policy/snapshot.h"
#include "relay/base/address.h"
#include "relay/base/result.h"
#include "relay/io/tls_handles.h"

namespace tw::io {

/// One listener's context, shared by that listener's socket on every worker.
/// Nothing changes it after it is shared: SSL_new on an SSL_CTX nobody
/// mutates is thread-safe in OpenSSL 3, so workers need no lock.
using SharedSslCtx = std::shared_ptr<SSL_CTX>;

/// The TLS and DTLS server contexts of one reload (or of start-up): one per
/// listener, by transport and bound address (the address every worker's
/// SO_REUSEPORT socket of that listener has, port 0 resolved). Immutable.
/// It reaches the workers inside the policy snapshot (policy::TlsMaterial),
/// so each takes new certificates in the same swap as the rest of a reload.
class TlsContexts final : public policy::TlsMaterial {
 public:
  struct Entry {
    Transport transport;  ///< Tls or Dtls
    SocketAddress bound;
    SharedSslCtx ctx;
  };
  explicit TlsContexts(std::vector<Entry> entries) : entries_(std::move(entries)) {}
  const std::vector<Entry>& entries() const { return entries_; }
  /// The context of the listener bound to `bound`; null when there is none.
  SharedSslCtx find(Transport transport, const SocketAddress& bound) const;

 private:
  std::vector<Entry> entries_;
};

/// Loads the certificate chain and private key and checks that they match;
/// the error names the file and OpenSSL's reason.
Result<SslCtxPtr, std::string> makeServerTlsContext(const std::string& certPath,
                                                    const std::string& keyPath);

/// DTLS 1.2 only, same suites and files; the caller installs the cookie
/// callbacks (DtlsListener).
Result<SslCtxPtr, std::string> makeServerDtlsContext(const std::string& certPath,
                                                     const std::string& keyPath);

/// Shared by both: suites, options, certificate chain, key, ALPN.
Result<SslCtxPtr, std::string> configureServerContext(SslCtxPtr ctx, const std::string& certPath,
                                                      const std::string& keyPath);

/// The ALPN protocol the client and server agreed on ("" when none).
std::string negotiatedAlpn(const SSL* ssl);

/// The oldest error in this thread's OpenSSL queue as text; empties the queue.
std::string lastSslError();

}  // namespace tw::io
