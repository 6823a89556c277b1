#pragma once
// Server-side TLS settings for TURN over TLS (RFC 8656 §3.7 and RFC 7443):
// one SSL_CTX per listener, built from PEM files, TLS 1.2 and 1.3 only,
// forward-secret AEAD suites, and ALPN "stun.turn" / "stun.nat-discovery".
//
// A reload builds a fresh SSL_CTX; live connections keep a reference to the
// old one (every SSL holds its SSL_CTX), so they are not dropped.
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "relay/base/result.h"

namespace tw::io {

struct SslCtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

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
