#include "tests/support/raw_tcp.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include "relay/io/udp_socket.h"

namespace tw::testing {
namespace {

void wait(const PumpFn& pump) {
  if (pump) pump();
  usleep(1000);
}

io::UniqueFd tcpSocket(const SocketAddress& a) {
  return io::UniqueFd(::socket(a.ip.isV4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0));
}

}  // namespace

RawTcp RawTcp::connectTo(const SocketAddress& to, PumpFn pump) {
  RawTcp r;
  r.pump = std::move(pump);
  r.fd = tcpSocket(to);
  sockaddr_storage ss;
  const socklen_t len = to.toSockaddr(ss);
  ::connect(r.fd.get(), reinterpret_cast<sockaddr*>(&ss), len);  // EINPROGRESS on loopback
  return r;
}

size_t RawTcp::send(std::span<const uint8_t> bytes) {
  size_t done = 0;
  for (int i = 0; i < 5000 && done < bytes.size(); ++i) {
    const ssize_t n = ::send(fd.get(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n > 0) done += static_cast<size_t>(n);
    if (done < bytes.size()) wait(pump);
  }
  return done;
}

size_t RawTcp::send(const std::string& s) {
  return send(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

bool RawTcp::fill(size_t want, int ms) {
  uint8_t buf[65536];
  for (int i = 0; i < ms && in.size() < want; ++i) {
    if (pump) pump();
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) break;
    if (n > 0) {
      in.insert(in.end(), buf, buf + n);
      continue;
    }
    usleep(1000);
  }
  return in.size() >= want;
}

std::string takeBytes(std::vector<uint8_t>& in, size_t n) {
  n = std::min(n, in.size());
  std::string s(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n));
  in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n));
  return s;
}

std::optional<stun::Message> readStunFrom(std::vector<uint8_t>& in, std::vector<uint8_t>& storage,
                                          const std::function<bool(size_t)>& fill) {
  if (!fill(20)) return std::nullopt;
  const size_t len = 20 + (size_t{in[2]} << 8 | in[3]);
  if (!fill(len)) return std::nullopt;
  storage.assign(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(len));
  in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(len));
  auto m = stun::decode(storage);
  if (!m) return std::nullopt;
  return m.value();
}

std::string RawTcp::take(size_t n) { return takeBytes(in, n); }

std::optional<stun::Message> RawTcp::readStun(std::vector<uint8_t>& storage) {
  return readStunFrom(in, storage, [this](size_t want) { return fill(want); });
}

bool RawTcp::closed(int ms) {
  uint8_t buf[4096];
  for (int i = 0; i < ms; ++i) {
    if (pump) pump();
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
    if (n > 0) {
      in.insert(in.end(), buf, buf + n);
      continue;
    }
    usleep(1000);
  }
  return false;
}

SocketAddress RawTcp::local() const { return *io::localAddress(fd.get()); }

PeerListener::PeerListener(const char* at) {
  const SocketAddress bindTo = *SocketAddress::parse(at);
  fd = tcpSocket(bindTo);
  sockaddr_storage ss;
  const socklen_t len = bindTo.toSockaddr(ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd.get(), 16) != 0)
    throw std::runtime_error("PeerListener: cannot listen on " + bindTo.toString());
  addr = *io::localAddress(fd.get());
}

std::optional<RawTcp> PeerListener::accept(const PumpFn& pump, SocketAddress* from, int ms) {
  for (int i = 0; i < ms; ++i) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    const int c = ::accept4(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK);
    if (c >= 0) {
      if (from) *from = *SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
      RawTcp r;
      r.fd = io::UniqueFd(c);
      r.pump = pump;
      return r;
    }
    wait(pump);
  }
  return std::nullopt;
}

uint16_t closedTcpPort() {
  io::UniqueFd s(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_storage ss;
  const socklen_t len = SocketAddress::parse("127.0.0.1:0")->toSockaddr(ss);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return 0;
  return io::localAddress(s.get())->port;
}

}  // namespace tw::testing
