// DTLS 1.2 listener: stateless cookies before any per-client state.
#include "relay/io/dtls_listener.h"

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <vector>

#include "relay/io/udp_socket.h"
#include "relay/stun/builder.h"
#include "relay/stun/message.h"
#include "tests/relay/io/harness.h"

using namespace tw;
using tw::testing::Harness;
using tw::testing::TempCert;

namespace {

/// A real OpenSSL DTLS client on memory BIOs: datagrams go in with input(),
/// what it writes comes out of output().
struct MemoryDtlsClient {
  SSL_CTX* ctx = SSL_CTX_new(DTLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* rb = BIO_new(BIO_s_mem());
  BIO* wb = BIO_new(BIO_s_mem());
  MemoryDtlsClient() {
    BIO_set_mem_eof_return(rb, -1);
    SSL_set_bio(ssl, rb, wb);
    SSL_set_connect_state(ssl);
  }
  ~MemoryDtlsClient() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
  void input(const std::vector<uint8_t>& d) { BIO_write(rb, d.data(), static_cast<int>(d.size())); }
  std::vector<uint8_t> output() {
    std::vector<uint8_t> out(BIO_ctrl_pending(wb));
    if (!out.empty()) BIO_read(wb, out.data(), static_cast<int>(out.size()));
    return out;
  }
};

/// A DTLS listener on 127.0.0.1 (any port) with `cert`'s context.
Result<SocketAddress, std::string> addDtls(Harness& h, const TempCert& cert) {
  auto ctx = io::DtlsListener::makeContext(cert.cert(), cert.key());
  REQUIRE(ctx.ok());
  return h.worker->addDtlsListener(*SocketAddress::parse("127.0.0.1:0"), ctx.value());
}

/// The first flight of a real OpenSSL DTLS 1.2 client: a ClientHello.
std::vector<uint8_t> clientHello() {
  MemoryDtlsClient c;
  SSL_do_handshake(c.ssl);
  return c.output();
}

}  // namespace

TEST_CASE("dtls abuse: 10,000 spoofed ClientHellos from distinct ports keep no state") {
  Harness h;
  TempCert cert;
  REQUIRE(addDtls(h, cert).ok());
  const io::DtlsListener& dtls = *h.worker->dtlsListeners().front();
  const auto hello = clientHello();
  REQUIRE(hello.size() > 13);
  sockaddr_storage ss;
  const socklen_t len = dtls.local().toSockaddr(ss);
  for (int i = 0; i < 10000; ++i) {
    // A fresh socket per hello: a new source port each time, never answered.
    auto fd = io::openUdpSocket(*SocketAddress::parse("127.0.0.1:0"), false);
    REQUIRE(fd.ok());
    ::sendto(fd->get(), hello.data(), hello.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
    if (i % 16 == 0) h.pump();
  }
  for (int i = 0; i < 200; ++i) {
    h.pump();
    usleep(1000);
  }
  // Every hello got a HelloVerifyRequest (a few may be lost to socket buffers
  // on a loaded machine) and none created a session.
  CHECK(dtls.stats().cookiesSent >= 9000);
  CHECK(dtls.stats().sessions == 0);
  CHECK(dtls.sessionCount() == 0);
}

namespace {

/// The cookie of a HelloVerifyRequest datagram: 13-byte record header,
/// 12-byte handshake header, server_version (2), then the length-prefixed cookie.
std::vector<uint8_t> cookieOf(const std::vector<uint8_t>& hvr) {
  REQUIRE(hvr.size() > 28);
  REQUIRE(hvr[0] == 22);  // handshake record
  REQUIRE(hvr[13] == 3);  // HelloVerifyRequest
  const size_t len = hvr[27];
  REQUIRE(hvr.size() >= 28 + len);
  return {hvr.begin() + 28, hvr.begin() + 28 + static_cast<long>(len)};
}

/// Runs `client`'s handshake with the listener at `at` over `sock` to the
/// end; true when it completed.
bool handshake(MemoryDtlsClient& client, testing::UdpPeer& sock, const SocketAddress& at, Harness& h) {
  for (int i = 0; i < 400; ++i) {
    const bool done = SSL_do_handshake(client.ssl) == 1;
    if (auto out = client.output(); !out.empty()) sock.sendTo(at, out);
    if (done) return true;
    if (auto d = sock.receive(h, 20)) client.input(*d);
  }
  return false;
}

/// `client` sends a Binding request through its session: true when a
/// success response comes back through it.
bool bindingAnswered(MemoryDtlsClient& client, testing::UdpPeer& sock, const SocketAddress& at, Harness& h) {
  std::vector<uint8_t> request;
  stun::MessageBuilder(request, stun::Method::Binding, stun::MessageClass::Request,
                       stun::TransactionId{7, 7, 7});
  if (SSL_write(client.ssl, request.data(), static_cast<int>(request.size())) <= 0) return false;
  sock.sendTo(at, client.output());
  auto record = sock.receive(h, 2000);
  if (!record) return false;
  client.input(*record);
  std::array<uint8_t, 1500> buf;
  const int n = SSL_read(client.ssl, buf.data(), static_cast<int>(buf.size()));
  if (n <= 0) return false;
  auto answer = stun::decode(std::span(buf.data(), static_cast<size_t>(n)));
  return answer && answer->messageClass() == stun::MessageClass::SuccessResponse;
}

/// A worker with one DTLS listener and one client whose handshake completed.
struct EstablishedSession {
  Harness h;
  TempCert cert;
  SocketAddress at;
  MemoryDtlsClient client;
  testing::UdpPeer sock;
  EstablishedSession() {
    auto added = addDtls(h, cert);
    REQUIRE(added.ok());
    at = added.value();
    REQUIRE(listener().local() == at);
    REQUIRE(handshake(client, sock, at, h));
    for (int i = 0; i < 20 && listener().sessionCount() == 0; ++i) h.pump();
    REQUIRE(listener().sessionCount() == 1);
  }
  io::DtlsListener& listener() { return *h.worker->dtlsListeners().front(); }
};

}  // namespace

TEST_CASE("dtls: cookies are keyed per listener from the CSPRNG, stable for one client") {
  Harness h;
  TempCert cert;
  for (int i = 0; i < 2; ++i) REQUIRE(addDtls(h, cert).ok());
  const auto hello = clientHello();
  testing::UdpPeer client;
  auto cookieFrom = [&](const io::DtlsListener& l) {
    client.sendTo(l.local(), hello);
    auto hvr = client.receive(h, 2000);
    REQUIRE(hvr);
    return cookieOf(*hvr);
  };
  const auto& listeners = h.worker->dtlsListeners();
  const auto first = cookieFrom(*listeners[0]);
  const auto again = cookieFrom(*listeners[0]);
  const auto other = cookieFrom(*listeners[1]);
  CHECK(first.size() == 20);
  CHECK(first == again);  // a MAC of the client address: no per-client state needed
  CHECK(first != other);  // a different random key: not derivable from the address alone
}

TEST_CASE("dtls: a handshake flight with a large certificate is cut into datagrams of at most 1200 bytes") {
  Harness h;
  TempCert cert;
  // A certificate of a few kilobytes (a long SAN list), as real chains are.
  std::string san = "subjectAltName=DNS:localhost";
  for (int i = 0; i < 120; ++i) san += ",DNS:host-" + std::to_string(i) + ".turnwarden.example";
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -addext '" +
      san + "' -keyout " + cert.key() + " -out " + cert.cert() + " >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  REQUIRE(addDtls(h, cert).ok());
  const io::DtlsListener& dtls = *h.worker->dtlsListeners().front();

  // A real OpenSSL DTLS client over a UDP socket of its own.
  MemoryDtlsClient client;
  testing::UdpPeer sock;
  std::vector<size_t> sizes;
  bool done = false;
  for (int i = 0; i < 400 && !done; ++i) {
    done = SSL_do_handshake(client.ssl) == 1;
    if (auto out = client.output(); !out.empty()) sock.sendTo(dtls.local(), out);
    if (done) break;
    if (auto d = sock.receive(h, 20)) {
      sizes.push_back(d->size());
      client.input(*d);
    }
  }
  CHECK(done);
  size_t total = 0;
  for (size_t n : sizes) {
    CHECK(n <= 1200);
    total += n;
  }
  CHECK(total > 3000);  // the certificate really needed several datagrams
  for (int i = 0; i < 20 && dtls.sessionCount() == 0; ++i) h.pump();
  CHECK(dtls.sessionCount() == 1);
}

TEST_CASE("dtls listener removed: its sessions end with close_notify and its port is freed") {
  EstablishedSession e;
  auto& [h, cert, at, client, sock] = e;

  CHECK(h.worker->removeDtlsListener(at));
  CHECK(h.worker->dtlsListeners().empty());
  CHECK_FALSE(h.worker->removeDtlsListener(at));
  // The client is told: a close_notify alert ends its session cleanly.
  auto alert = sock.receive(h, 2000);
  REQUIRE(alert);
  client.input(*alert);
  std::array<uint8_t, 64> buf;
  const int n = SSL_read(client.ssl, buf.data(), static_cast<int>(buf.size()));
  CHECK(n <= 0);
  CHECK(SSL_get_error(client.ssl, n) == SSL_ERROR_ZERO_RETURN);
  CHECK(io::openUdpSocket(at, /*reusePort=*/false).ok());  // the socket is closed
}

TEST_CASE("dtls: a session closed mid-handshake does not take an established session down with it") {
  // SSL_shutdown of a session still in its handshake queues "shutdown while
  // in init" on the thread's OpenSSL error queue; SSL_get_error() of the next
  // session's SSL_read then reported SSL_ERROR_SSL instead of "want more
  // data", and a healthy session was closed right after its answer
  // (turnutils_uclient -S exited 255 in e2e_uclient_matrix).
  EstablishedSession e;
  auto& [h, cert, at, good, goodSock] = e;
  io::DtlsListener& dtls = e.listener();

  // A second client passes the cookie exchange, then goes silent mid-handshake.
  MemoryDtlsClient stalled;
  testing::UdpPeer stalledSock;
  for (int flight = 0; flight < 2; ++flight) {
    SSL_do_handshake(stalled.ssl);
    stalledSock.sendTo(at, stalled.output());
    auto answer = stalledSock.receive(h, 2000);
    REQUIRE(answer);
    stalled.input(*answer);
  }
  REQUIRE(dtls.sessionCount() == 2);
  h.clock.advance(std::chrono::seconds(11));           // past the 10 s handshake deadline
  dtls.sweep([](const FiveTuple&) { return false; });  // the worker's 1-second tick
  REQUIRE(dtls.stats().closedHandshakeTimeout == 1);
  REQUIRE(dtls.sessionCount() == 1);

  // The established client asks for a Binding: answered, and its session lives on.
  CHECK(bindingAnswered(good, goodSock, at, h));
  for (int i = 0; i < 20; ++i) h.pump();
  CHECK(dtls.sessionCount() == 1);
  CHECK(dtls.stats().closedByPeer == 0);
  CHECK_FALSE(goodSock.receive(h, 50));  // no close_notify followed the answer
}

TEST_CASE("dtls: a replaced context serves new handshakes, a live session keeps working") {
  EstablishedSession e;
  auto& [h, cert, at, before, beforeSock] = e;
  TempCert second;
  auto ctx = io::DtlsListener::makeContext(second.cert(), second.key());
  REQUIRE(ctx.ok());
  e.listener().useContext(ctx.value());
  CHECK(e.listener().context() == ctx->get());
  // A new client passes the cookie exchange with the new context (its
  // callbacks find the listener through the SSL) and gets the new certificate.
  MemoryDtlsClient after;
  testing::UdpPeer afterSock;
  REQUIRE(handshake(after, afterSock, at, h));
  X509* oldCert = SSL_get0_peer_certificate(before.ssl);
  X509* newCert = SSL_get0_peer_certificate(after.ssl);
  REQUIRE(oldCert);
  REQUIRE(newCert);
  CHECK(X509_cmp(oldCert, newCert) != 0);
  CHECK(X509_cmp(newCert, SSL_CTX_get0_certificate(ctx->get())) == 0);
  CHECK(bindingAnswered(before, beforeSock, at, h));  // the old session still works
  CHECK(bindingAnswered(after, afterSock, at, h));
  CHECK(e.listener().sessionCount() == 2);
}
