#include "relay/io/tls_context.h"

#include <openssl/err.h>

#include <array>
#include <string_view>

namespace tw::io {
namespace {

// TLS 1.2: ECDHE with AEAD only (no CBC, no RSA key exchange, no SHA-1 MACs).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// RFC 7443: the ALPN ids of TURN and of STUN NAT discovery.
constexpr std::array<std::string_view, 2> kAlpn{"stun.turn", "stun.nat-discovery"};

/// Server-preference ALPN: the first of our ids the client offered. A client
/// offering only other protocols (h2, http/1.1) gets no ALPN rather than a
/// failed handshake, because TURN clients predating RFC 7443 send none.
int selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  for (std::string_view ours : kAlpn) {
    for (unsigned int i = 0; i < inlen;) {
      const unsigned int n = in[i];
      if (i + 1 + n > inlen) break;
      if (std::string_view(reinterpret_cast<const char*>(in + i + 1), n) == ours) {
        *out = in + i + 1;
        *outlen = static_cast<unsigned char>(n);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + n;
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

std::string lastSslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  std::array<char, 256> buf{};
  ERR_error_string_n(e, buf.data(), buf.size());
  return buf.data();
}

Result<SslCtxPtr, std::string> makeServerTlsContext(const std::string& certPath, const std::string& keyPath) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return err("SSL_CTX_new: " + lastSslError());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
  return configureServerContext(std::move(ctx), certPath, keyPath);
}

Result<SslCtxPtr, std::string> makeServerDtlsContext(const std::string& certPath,
                                                     const std::string& keyPath) {
  SslCtxPtr ctx(SSL_CTX_new(DTLS_server_method()));
  if (!ctx) return err("SSL_CTX_new: " + lastSslError());
  SSL_CTX_set_min_proto_version(ctx.get(), DTLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), DTLS1_2_VERSION);
  SSL_CTX_set_read_ahead(ctx.get(), 1);
  return configureServerContext(std::move(ctx), certPath, keyPath);
}

Result<SslCtxPtr, std::string> configureServerContext(SslCtxPtr ctx, const std::string& certPath,
                                                      const std::string& keyPath) {
  SSL_CTX_set_options(ctx.get(),
                      SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(ctx.get(), kTls12Ciphers) != 1) return err("cipher list: " + lastSslError());
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), certPath.c_str()) != 1)
    return err("certificate " + certPath + ": " + lastSslError());
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), keyPath.c_str(), SSL_FILETYPE_PEM) != 1)
    return err("private key " + keyPath + ": " + lastSslError());
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return err("private key " + keyPath + " does not match " + certPath);
  SSL_CTX_set_alpn_select_cb(ctx.get(), &selectAlpn, nullptr);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  return ctx;
}

SharedSslCtx TlsContexts::find(Transport transport, const SocketAddress& bound) const {
  for (const auto& e : entries_)
    if (e.transport == transport && e.bound == bound) return e.ctx;
  return nullptr;
}

std::string negotiatedAlpn(const SSL* ssl) {
  const unsigned char* p = nullptr;
  unsigned int n = 0;
  SSL_get0_alpn_selected(ssl, &p, &n);
  return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
}

}  // namespace tw::io
