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

}  // namespace tw::policy::config_detail
