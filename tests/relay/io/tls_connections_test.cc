// TURN over TLS on loopback: an in-process worker with a TLS listener, a
// certificate made by the openssl CLI at test time, and an OpenSSL client.
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "relay/io/tls_context.h"
#include "relay/stun/builder.h"
#include "relay/stun/message.h"
#include "tests/relay/io/harness.h"

using namespace tw;
using tw::testing::Harness;
using tw::testing::StunClient;

namespace {

using tw::testing::TempCert;

struct TlsHarness : Harness {
  TlsHarness() {
    auto ctx = io::makeServerTlsContext(cert.cert(), cert.key());
    REQUIRE(ctx.ok());
    REQUIRE(worker->streams().listen(*SocketAddress::parse("127.0.0.1:0"), std::move(ctx.value())).ok());
    tlsAddress = worker->streams().addresses().front().first;
  }
  TempCert cert;
  SocketAddress tlsAddress;
};

/// A non-blocking OpenSSL client; every wait pumps the harness.
struct TlsClient {
  TlsClient(TlsHarness& h, int maxVersion, const char* alpn) : h(h) {
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_max_proto_version(ctx, maxVersion);
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_security_level(ctx, 0);  // allow offering old versions to test refusal
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_storage ss;
    const socklen_t len = h.tlsAddress.toSockaddr(ss);
    ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (alpn) {
      std::string wire(1, static_cast<char>(std::strlen(alpn)));
      wire += alpn;
      SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                          static_cast<unsigned>(wire.size()));
    }
  }
  ~TlsClient() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ::close(fd);
  }
  template <class F>
  int retry(F op) {
    for (int i = 0; i < 3000; ++i) {
      const int r = op();
      if (r > 0) return r;
      const int e = SSL_get_error(ssl, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return -1;
      h.pump();
      usleep(1000);
    }
    return -1;
  }
  bool handshake() {
    return retry([&] { return SSL_connect(ssl); }) == 1;
  }
  std::optional<stun::Message> binding(std::vector<uint8_t>& buf) {
    std::vector<uint8_t> req;
    stun::TransactionId txn{};
    txn.fill(7);
    stun::MessageBuilder b(req, stun::Method::Binding, stun::MessageClass::Request, txn);
    if (retry([&] { return SSL_write(ssl, req.data(), static_cast<int>(req.size())); }) <= 0)
      return std::nullopt;
    buf.resize(2048);
    const int n = retry([&] { return SSL_read(ssl, buf.data(), static_cast<int>(buf.size())); });
    if (n <= 0) return std::nullopt;
    buf.resize(static_cast<size_t>(n));
    auto m = stun::decode(buf);
    if (!m) return std::nullopt;
    return m.value();
  }
  TlsHarness& h;
  SSL_CTX* ctx;
  SSL* ssl;
  int fd;
};

}  // namespace

TEST_CASE("tls: TLS 1.3 handshake, ALPN stun.turn selected, Binding answered") {
  TlsHarness h;
  TlsClient c(h, TLS1_3_VERSION, "stun.turn");
  REQUIRE(c.handshake());
  CHECK(std::string(SSL_get_version(c.ssl)) == "TLSv1.3");
  CHECK(io::negotiatedAlpn(c.ssl) == "stun.turn");
  std::vector<uint8_t> buf;
  auto m = c.binding(buf);
  REQUIRE(m);
  CHECK(m->messageClass() == stun::MessageClass::SuccessResponse);
  REQUIRE(m->xorMappedAddress());
  CHECK(m->xorMappedAddress()->ip == *IpAddress::parse("127.0.0.1"));
}

TEST_CASE("tls: TLS 1.2 is accepted with an AEAD suite, ALPN stun.nat-discovery too") {
  TlsHarness h;
  TlsClient c(h, TLS1_2_VERSION, "stun.nat-discovery");
  REQUIRE(c.handshake());
  CHECK(std::string(SSL_get_version(c.ssl)) == "TLSv1.2");
  const std::string cipher = SSL_get_cipher_name(c.ssl);
  CHECK((cipher.find("GCM") != std::string::npos || cipher.find("CHACHA20") != std::string::npos));
  CHECK(io::negotiatedAlpn(c.ssl) == "stun.nat-discovery");
}

TEST_CASE("tls: TLS 1.1 and older are refused") {
  TlsHarness h;
  TlsClient c(h, TLS1_1_VERSION, nullptr);
  CHECK_FALSE(c.handshake());
}

TEST_CASE("tls: a handshake that never finishes is closed at the deadline and counted") {
  TlsHarness h;
  StunClient raw = StunClient::tcp(h.tlsAddress, [&h] { h.pump(); });  // never says hello
  for (int i = 0; i < 500 && h.worker->streams().connectionCount() == 0; ++i) {
    h.pump();
    usleep(1000);
  }
  REQUIRE(h.worker->streams().connectionCount() == 1);
  CHECK(h.worker->streams().connectionCount(Transport::Tls) == 1);  // per listener kind
  CHECK(h.worker->streams().connectionCount(Transport::Tcp) == 0);
  auto sweep = [&] { h.worker->streams().sweep([](const FiveTuple&) { return false; }); };
  h.clock.advance(h.worker->streams().limits().handshakeTimeout - std::chrono::seconds(1));
  sweep();
  CHECK(h.worker->streams().connectionCount() == 1);
  h.clock.advance(std::chrono::seconds(2));
  sweep();
  CHECK(raw.waitClosed(3000));
  CHECK(h.worker->streams().stats().closedHandshakeTimeout == 1);
  CHECK(h.worker->streams().connectionCount() == 0);
}

TEST_CASE("tls: a replaced certificate serves new connections, a live one keeps working") {
  TlsHarness h;
  TlsClient before(h, TLS1_3_VERSION, "stun.turn");
  REQUIRE(before.handshake());
  TempCert second;
  auto ctx = io::makeServerTlsContext(second.cert(), second.key());
  REQUIRE(ctx.ok());
  REQUIRE(h.worker->streams().replaceTlsContext(h.tlsAddress, std::move(ctx.value())));
  TlsClient after(h, TLS1_3_VERSION, "stun.turn");
  REQUIRE(after.handshake());
  X509* oldCert = SSL_get0_peer_certificate(before.ssl);
  X509* newCert = SSL_get0_peer_certificate(after.ssl);
  REQUIRE(oldCert);
  REQUIRE(newCert);
  CHECK(X509_cmp(oldCert, newCert) != 0);
  std::vector<uint8_t> buf;
  CHECK(before.binding(buf).has_value());  // the old session still works
  CHECK(after.binding(buf).has_value());
}

TEST_CASE("tls: a key that does not match the certificate is refused, naming the key file") {
  TempCert a, b;
  auto ctx = io::makeServerTlsContext(a.cert(), b.key());
  REQUIRE_FALSE(ctx.ok());
  CHECK(ctx.error().find(b.key()) != std::string::npos);
  auto missing = io::makeServerTlsContext(a.dir + "/nope.pem", a.key());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().find("nope.pem") != std::string::npos);
}

TEST_CASE("tls: a trusted proxy's PROXY header precedes the ClientHello and names the client") {
  TlsHarness h;
  io::StreamLimits limits = h.worker->streams().limits();
  limits.trustedProxies.ranges.push_back(policy::IpRange::single(IpAddress::v4(127, 0, 0, 1)));
  h.worker->streams().setLimits(limits);
  auto ctx = io::makeServerTlsContext(h.cert.cert(), h.cert.key());
  REQUIRE(ctx.ok());
  auto proxied =
      h.worker->streams().listen(*SocketAddress::parse("127.0.0.1:0"), std::move(ctx.value()), true);
  REQUIRE(proxied.ok());
  h.tlsAddress = proxied.value();
  TlsClient c(h, TLS1_3_VERSION, "stun.turn");
  pollfd pfd{c.fd, POLLOUT, 0};
  REQUIRE(::poll(&pfd, 1, 2000) == 1);  // connected
  const std::string line =
      "PROXY TCP4 203.0.113.5 127.0.0.1 41000 " + std::to_string(h.tlsAddress.port) + "\r\n";
  REQUIRE(::send(c.fd, line.data(), line.size(), 0) == static_cast<ssize_t>(line.size()));
  REQUIRE(c.handshake());
  std::vector<uint8_t> buf;
  auto m = c.binding(buf);
  REQUIRE(m);
  CHECK(m->xorMappedAddress() == *SocketAddress::parse("203.0.113.5:41000"));
  CHECK(h.worker->streams().stats().proxied == 1);
}

TEST_CASE("tls: a PROXY header from a client nobody trusts is refused before any TLS") {
  TlsHarness h;  // no proxy_protocol, no trusted_proxies
  TlsClient c(h, TLS1_3_VERSION, "stun.turn");
  pollfd pfd{c.fd, POLLOUT, 0};
  REQUIRE(::poll(&pfd, 1, 2000) == 1);
  const std::string line = "PROXY TCP4 203.0.113.5 127.0.0.1 41000 5349\r\n";
  REQUIRE(::send(c.fd, line.data(), line.size(), 0) == static_cast<ssize_t>(line.size()));
  CHECK_FALSE(c.handshake());
  CHECK(h.worker->streams().stats().proxyRefused == 1);
  CHECK(h.worker->streams().connectionCount() == 0);
}
