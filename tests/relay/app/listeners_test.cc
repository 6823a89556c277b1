// TLS/DTLS contexts per reload (issue 9): ListenerSet reads each listener's
// PEM files once, both workers' sockets of a listener share that one
// SSL_CTX, the policy snapshot carries the set to the workers, and a
// listener whose files fail keeps its old context.
#include "relay/app/listeners.h"

#include <catch2/catch.hpp>
#include <openssl/pem.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "relay/io/dtls_listener.h"
#include "tests/relay/io/harness.h"

using namespace tw;
using tw::testing::Harness;
using tw::testing::TempCert;

namespace {

/// Two workers (loops not started: calls run on the test thread) reading the
/// harness's policy holder, as ServerApp's pool does.
struct TwoWorkers {
  Harness h;
  app::WorkerPool pool{2, [this](turn::WorkerId id) {
                         return std::make_unique<io::Worker>(io::WorkerDeps{
                             h.clock, h.rng, h.events, h.relays, *h.nonces, *h.holder, h.log, nullptr, id, {}, h.config.io});
                       }};
  app::ListenerSet set;
  uint64_t generation = 10;

  /// What ServerApp::publish does: a snapshot with the set's contexts, taken
  /// by each worker at the top of its next loop iteration.
  void publish() {
    h.holder->store(policy::buildSnapshot(h.config, ++generation, {}, set.tlsContexts()));
    for (size_t i = 0; i < pool.size(); ++i) pool[i].pollOnce();
  }
  const app::BoundListener& bound(Transport t) const {
    for (const auto& b : set.bound())
      if (b.config.transport == t) return b;
    FAIL("no listener of that transport");
    return set.bound().front();
  }
  SSL_CTX* workerContext(size_t i, Transport t) {
    if (t == Transport::Tls) return pool[i].streams().tlsContext(bound(t).bound);
    return pool[i].dtlsListeners().front()->context();
  }
};

policy::ListenerConfig secure(Transport t, const std::string& cert, const std::string& key) {
  policy::ListenerConfig l;
  l.transport = t;
  l.address = *IpAddress::parse("127.0.0.1");
  l.port = 0;
  l.cert = cert;
  l.key = key;
  return l;
}

std::vector<policy::ListenerConfig> tlsAndDtls(const TempCert& c) {
  return {secure(Transport::Tls, c.cert(), c.key()), secure(Transport::Dtls, c.cert(), c.key())};
}

/// The certificate in a PEM file, to compare with what a context serves.
bool serves(SSL_CTX* ctx, const std::string& certPath) {
  FILE* f = std::fopen(certPath.c_str(), "r");
  REQUIRE(f);
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  REQUIRE(x);
  const bool same = X509_cmp(x, SSL_CTX_get0_certificate(ctx)) == 0;
  X509_free(x);
  return same;
}

void copyOver(const TempCert& from, const TempCert& to) {
  namespace fs = std::filesystem;
  fs::copy_file(from.cert(), to.cert(), fs::copy_options::overwrite_existing);
  fs::copy_file(from.key(), to.key(), fs::copy_options::overwrite_existing);
}

}  // namespace

TEST_CASE("listener set: one context per TLS and DTLS listener, the same object on both workers") {
  TwoWorkers w;
  TempCert cert;
  auto opened = w.set.apply(w.pool, tlsAndDtls(cert), w.h.log);
  REQUIRE(opened.ok());
  CHECK(opened->opened.size() == 2);
  CHECK(opened->certificates.empty());  // nothing was reloaded: both are new
  const auto contexts = w.set.tlsContexts();
  REQUIRE(contexts);
  REQUIRE(contexts->entries().size() == 2);
  for (Transport t : {Transport::Tls, Transport::Dtls}) {
    const auto ctx = contexts->find(t, w.bound(t).bound);
    REQUIRE(ctx);
    CHECK(ctx == w.bound(t).tls);
    CHECK(serves(ctx.get(), cert.cert()));
    // Opened with that one context on both workers, before any snapshot.
    CHECK(w.workerContext(0, t) == ctx.get());
    CHECK(w.workerContext(1, t) == ctx.get());
  }
  CHECK(contexts->find(Transport::Tls, w.bound(Transport::Tls).bound) !=
        contexts->find(Transport::Dtls, w.bound(Transport::Dtls).bound));
  w.publish();
  CHECK(w.workerContext(0, Transport::Dtls) == w.workerContext(1, Transport::Dtls));
}

TEST_CASE("listener set: a reload reads the files once, and the snapshot swap hands the new contexts to each worker") {
  TwoWorkers w;
  TempCert cert, renewed;
  REQUIRE(w.set.apply(w.pool, tlsAndDtls(cert), w.h.log).ok());
  w.publish();
  const auto before = w.set.tlsContexts();
  copyOver(renewed, cert);  // a renewed certificate at the same paths

  auto reloaded = w.set.apply(w.pool, tlsAndDtls(cert), w.h.log);
  REQUIRE(reloaded.ok());
  CHECK(reloaded->opened.empty());
  REQUIRE(reloaded->certificates.size() == 2);
  for (const auto& c : reloaded->certificates) CHECK_FALSE(c.error);
  const auto after = w.set.tlsContexts();
  REQUIRE(after != before);
  for (Transport t : {Transport::Tls, Transport::Dtls}) {
    const auto oldCtx = before->find(t, w.bound(t).bound);
    const auto newCtx = after->find(t, w.bound(t).bound);
    REQUIRE(newCtx);
    CHECK(newCtx != oldCtx);
    CHECK(serves(newCtx.get(), renewed.cert()));
    // The workers still hand out the old one until they take the snapshot.
    CHECK(w.workerContext(0, t) == oldCtx.get());
    CHECK(w.workerContext(1, t) == oldCtx.get());
  }
  w.publish();
  for (Transport t : {Transport::Tls, Transport::Dtls}) {
    CHECK(w.workerContext(0, t) == after->find(t, w.bound(t).bound).get());
    CHECK(w.workerContext(1, t) == after->find(t, w.bound(t).bound).get());
  }
}

TEST_CASE("listener set: a listener whose files fail to load keeps its old context, the error names the file") {
  TwoWorkers w;
  TempCert cert;
  REQUIRE(w.set.apply(w.pool, tlsAndDtls(cert), w.h.log).ok());
  w.publish();
  const auto before = w.set.tlsContexts();
  std::ofstream(cert.cert(), std::ios::trunc) << "not a certificate\n";

  auto reloaded = w.set.apply(w.pool, tlsAndDtls(cert), w.h.log);
  REQUIRE(reloaded.ok());  // the reload goes on: only the certificates stay
  REQUIRE(reloaded->certificates.size() == 2);
  for (const auto& c : reloaded->certificates) {
    REQUIRE(c.error);
    CHECK(c.error->find(cert.cert()) != std::string::npos);
  }
  w.publish();
  for (Transport t : {Transport::Tls, Transport::Dtls}) {
    const auto kept = before->find(t, w.bound(t).bound);
    CHECK(w.set.tlsContexts()->find(t, w.bound(t).bound) == kept);
    CHECK(w.workerContext(0, t) == kept.get());
    CHECK(w.workerContext(1, t) == kept.get());
  }
  // The log line names the listener and the file.
  FILE* out = std::tmpfile();
  Logger log(out, LogLevel::Info);
  app::logCertificates(reloaded->certificates, log);
  std::fflush(out);
  std::rewind(out);
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), out));
  std::fclose(out);
  CHECK(text.find("keeping the old certificate of tls " + w.bound(Transport::Tls).bound.toString()) !=
        std::string::npos);
  CHECK(text.find(cert.cert()) != std::string::npos);
}

TEST_CASE("listener set: a new DTLS listener whose files fail is refused, nothing is opened") {
  TwoWorkers w;
  TempCert cert;
  REQUIRE(w.set.apply(w.pool, {secure(Transport::Tls, cert.cert(), cert.key())}, w.h.log).ok());
  const auto before = w.set.bound();
  auto next = tlsAndDtls(cert);
  next[1].cert = cert.dir + "/missing.pem";
  auto refused = w.set.apply(w.pool, next, w.h.log);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().find("dtls listener") != std::string::npos);
  CHECK(refused.error().find("missing.pem") != std::string::npos);
  CHECK(w.set.bound().size() == before.size());
  CHECK(w.pool[0].dtlsListeners().empty());
  CHECK(w.pool[1].dtlsListeners().empty());
}
