// libFuzzer target: the DTLS front door (relay/io/dtls_listener), the
// stateless cookie exchange every datagram from an unknown source meets
// (RFC 6347 §4.2.1, DTLSv1_listen with turnwarden's HMAC cookies).
//
// A real DtlsListener on 127.0.0.1 (loopback only), a manual clock, a
// throw-away EC certificate; each input is split into up to 8 datagrams sent
// from three loopback sources. Nobody outside the process knows the cookie
// key, so the fuzzer can never present a valid cookie. Invariants
// (GHSA-5x2p-4vqj-f6m4: no state for cookieless ClientHellos):
//  - no session is ever created and no frame is ever delivered;
//  - at most one answer (a HelloVerifyRequest) per datagram.
#include <event2/event.h>
#include <sys/socket.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "relay/base/clock.h"
#include "relay/base/log.h"
#include "relay/base/random.h"
#include "relay/io/dtls_listener.h"
#include "relay/io/udp_socket.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace tw;

struct Front {
  Front() {
    char tmpl[] = "/tmp/tw-fuzz-dtls.XXXXXX";
    FUZZ_CHECK(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=localhost -keyout " +
        dir + "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1";
    FUZZ_CHECK(std::system(cmd.c_str()) == 0);
    listener = std::make_unique<io::DtlsListener>(
        base.get(), clock, rng, log,
        [](const FiveTuple&, std::span<const uint8_t>) {
          tw::fuzz::invariantFailed("a frame without a session", __FILE__, __LINE__);
        },
        [](const FiveTuple&) {});
    auto ctx = io::DtlsListener::makeContext(dir + "/cert.pem", dir + "/key.pem");
    FUZZ_CHECK(ctx.ok());
    auto st = listener->listen(*SocketAddress::parse("127.0.0.1:0"), ctx.value(), io::StreamLimits{});
    FUZZ_CHECK(st.ok());
    std::filesystem::remove_all(dir);
    for (const char* from : {"127.0.0.1:0", "127.0.0.2:0", "127.0.0.3:0"}) {
      auto fd = io::openUdpSocket(*SocketAddress::parse(from), false);
      FUZZ_CHECK(fd.ok());
      clients.push_back(std::move(fd.value()));
    }
  }

  void send(size_t client, std::span<const uint8_t> bytes) {
    sockaddr_storage ss;
    const socklen_t len = listener->local().toSockaddr(ss);
    ::sendto(clients[client].get(), bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
  }

  /// Datagrams waiting on the client sockets (the listener's answers); drains them.
  size_t answers() {
    size_t n = 0;
    uint8_t buf[2048];
    for (auto& fd : clients)
      while (::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT) >= 0) ++n;
    return n;
  }

  std::unique_ptr<event_base, decltype(&event_base_free)> base{event_base_new(), &event_base_free};
  ManualClock clock;
  CsprngRandom rng;
  Logger log{stderr, LogLevel::Error};
  std::string dir;
  std::unique_ptr<io::DtlsListener> listener;
  std::vector<io::UniqueFd> clients;
};

Front& front() {
  static Front f;  // one listener for the whole run, as in the server
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Front& f = front();
  tw::fuzz::FuzzInput in(data, size);
  size_t sent = 0;
  for (int i = 0; i < 8 && !in.empty(); ++i) {
    const size_t client = in.u8() % f.clients.size();
    const auto datagram = in.chunk(1500);
    f.send(client, datagram);
    ++sent;
    if (in.u8() & 1) f.clock.advance(std::chrono::seconds(in.u8()));
  }
  for (size_t i = 0; i < sent; ++i) event_base_loop(f.base.get(), EVLOOP_NONBLOCK);
  FUZZ_CHECK(f.listener->sessionCount() == 0);
  FUZZ_CHECK(f.listener->stats().sessions == 0);
  FUZZ_CHECK(f.answers() <= sent);
  return 0;
}
