#include "policy/config_transports.h"

#include <array>

namespace tw::policy::config_detail {
namespace {

template <size_t TransportsConfig::*Member, int64_t Min, int64_t Max>
void readSize(Reader& r, const Item& item, TransportsConfig& out) {
  if (auto v = r.integer(item, Min, Max)) out.*Member = static_cast<size_t>(*v);
}

template <tw::Duration TransportsConfig::*Member>
void readTimeout(Reader& r, const Item& item, TransportsConfig& out) {
  if (auto v = r.duration(item, std::chrono::seconds(1))) out.*Member = *v;
}

// A frame cap below 548 bytes would refuse ordinary STUN messages; above 64 KiB
// + header no valid frame exists.
constexpr std::array<Field<TransportsConfig>, 6> kTransportsFields{{
    {"max_connections_per_ip", readSize<&TransportsConfig::maxConnectionsPerIp, 1, 100000>},
    {"stream_buffer_bytes", readSize<&TransportsConfig::streamBufferBytes, 548, 65540>},
    {"stream_output_bytes", readSize<&TransportsConfig::streamOutputBytes, 4096, 67108864>},
    {"idle_timeout", readTimeout<&TransportsConfig::idleTimeout>},
    {"handshake_timeout", readTimeout<&TransportsConfig::handshakeTimeout>},
    {"tcp_relay_buffer_bytes", readSize<&TransportsConfig::tcpRelayBufferBytes, 4096, 16777216>},
}};

}  // namespace

void readTransportsSection(Reader& r, const Item& item, Config& cfg) {
  readFields(r, item, kTransportsFields, cfg.transports);
}

void readTrustedProxies(Reader& r, const Item& item, Config& cfg) {
  r.forEach(item, [&](const Item& e) {
    auto s = r.text(e);
    if (!s) return;
    auto range = IpRange::parse(*s);
    if (!range) return r.error(e, "bad address range " + shown(*s) + ": " + range.error());
    const bool v4 = range->family() == Family::V4;
    const IpRange all = IpRange::cidr(v4 ? IpAddress::v4(0) : IpAddress::v6(U128{0}), 0);
    if (range.value() == all) {
      return r.error(e, shown(*s) + " trusts every address: any client could name its own address");
    }
    cfg.trustedProxies.ranges.push_back(range.value());
  });
}

void finishTrustedProxies(Reader& r, const Item& root, Config& cfg) {
  cfg.transports.trustedProxies = cfg.trustedProxies;
  cfg.credentials.trustedProxies = cfg.trustedProxies;
  if (!cfg.trustedProxies.empty()) return;
  for (const ListenerConfig& l : cfg.listeners) {
    if (!l.proxyProtocol) continue;
    return r.error(root, "listener " + std::string(toString(l.transport)) + " " +
                             SocketAddress{l.address, l.port}.toString() +
                             " has proxy_protocol: true but trusted_proxies is empty");
  }
}

}  // namespace tw::policy::config_detail
