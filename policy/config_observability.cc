#include "policy/config_observability.h"

namespace tw::policy::config_detail {

namespace {

constexpr std::array<Field<MetricsConfig>, 2> kMetricsFields{{
    {"enabled",
     [](Reader& r, const Item& i, MetricsConfig& m) {
       if (auto b = r.boolean(i)) m.enabled = *b;
     }},
    {"listen", [](Reader& r, const Item& i, MetricsConfig& m) { readListen(r, i, m.listen); }},
}};

constexpr std::array<Field<EventsConfig>, 3> kEventsFields{{
    {"file",
     [](Reader& r, const Item& i, EventsConfig& e) {
       if (auto p = r.path(i)) e.file = *p;
     }},
    {"queue",
     [](Reader& r, const Item& i, EventsConfig& e) {
       if (auto n = r.integer(i, 16, 1 << 20)) e.queue = size_t(*n);
     }},
    {"sample_window",
     [](Reader& r, const Item& i, EventsConfig& e) {
       if (auto d = r.duration(i, std::chrono::seconds(1))) e.sampleWindow = *d;
     }},
}};

constexpr std::array<Field<UsageConfig>, 6> kUsageFields{{
    {"file",
     [](Reader& r, const Item& i, UsageConfig& u) {
       if (auto p = r.path(i)) u.file = *p;
     }},
    {"interval",
     [](Reader& r, const Item& i, UsageConfig& u) {
       if (auto d = r.duration(i, std::chrono::seconds(1))) u.interval = *d;
     }},
    {"queue",
     [](Reader& r, const Item& i, UsageConfig& u) {
       if (auto n = r.integer(i, 16, 1 << 22)) u.queue = size_t(*n);
     }},
    {"top_users",
     [](Reader& r, const Item& i, UsageConfig& u) {
       if (auto n = r.integer(i, 0, 100)) u.topUsers = uint32_t(*n);
     }},
    {"redis_maxlen",
     [](Reader& r, const Item& i, UsageConfig& u) {
       if (auto n = r.integer(i, 1000, 1'000'000'000)) u.redisMaxLen = uint64_t(*n);
     }},
    {"redis_buffer",
     [](Reader& r, const Item& i, UsageConfig& u) {
       if (auto n = r.integer(i, 16, 10'000'000)) u.redisBuffer = size_t(*n);
     }},
}};

constexpr std::array<Field<AdminConfig>, 2> kAdminFields{{
    {"listen",
     [](Reader& r, const Item& i, AdminConfig& a) {
       SocketAddress at{};
       const size_t errors = r.errorCount();
       readListen(r, i, at);
       if (r.errorCount() == errors) a.listen = at;
     },
     true},
    {"token_file",
     [](Reader& r, const Item& i, AdminConfig& a) {
       if (auto p = r.path(i)) a.tokenFile = *p;
     },
     true},
}};

constexpr std::array<Field<HttpLimitsConfig>, 3> kHttpFields{{
    {"max_connections",
     [](Reader& r, const Item& i, HttpLimitsConfig& h) {
       if (auto n = r.integer(i, 2, 1'000'000)) h.maxConnections = uint32_t(*n);
     }},
    {"connections_per_ip",
     [](Reader& r, const Item& i, HttpLimitsConfig& h) {
       if (auto n = r.integer(i, 1, 1'000'000)) h.connectionsPerIp = uint32_t(*n);
     }},
    {"request_timeout",
     [](Reader& r, const Item& i, HttpLimitsConfig& h) {
       if (auto d = r.duration(i, std::chrono::seconds(1))) h.requestTimeout = *d;
     }},
}};

template <auto Member>
void readCount(Reader& r, const Item& i, AnomaliesConfig& a) {
  if (auto n = r.integer(i, 0, 1'000'000)) a.*Member = uint32_t(*n);
}

template <auto Member>
void readBps(Reader& r, const Item& i, AnomaliesConfig& a) {
  if (auto n = r.integer(i, 0, int64_t(1) << 50)) a.*Member = uint64_t(*n);
}

constexpr std::array<Field<AnomaliesConfig>, 12> kAnomaliesFields{{
    {"window",
     [](Reader& r, const Item& i, AnomaliesConfig& a) {
       if (auto d = r.duration(i, std::chrono::seconds(1))) a.window = *d;
     }},
    {"brute_force_failures", readCount<&AnomaliesConfig::bruteForceFailures>},
    {"scan_distinct_peers", readCount<&AnomaliesConfig::scanDistinctPeers>},
    {"scan_revoke",
     [](Reader& r, const Item& i, AnomaliesConfig& a) {
       if (auto b = r.boolean(i)) a.scanRevoke = *b;
     }},
    {"spike_factor",
     [](Reader& r, const Item& i, AnomaliesConfig& a) {
       if (auto n = r.integer(i, 2, 1000)) a.spikeFactor = double(*n);
     }},
    {"spike_min_bps", readBps<&AnomaliesConfig::spikeMinBps>},
    {"max_bps", readBps<&AnomaliesConfig::maxBps>},
    {"total_bps", readBps<&AnomaliesConfig::totalBps>},
    {"churn_allocations", readCount<&AnomaliesConfig::churnAllocations>},
    {"denied_peer_burst", readCount<&AnomaliesConfig::deniedPeerBurst>},
    {"sharing_ips", readCount<&AnomaliesConfig::sharingIps>},
    {"sharing_window",
     [](Reader& r, const Item& i, AnomaliesConfig& a) {
       if (auto d = r.duration(i, std::chrono::seconds(1))) a.sharingWindow = *d;
     }},
}};

}  // namespace

void readListen(Reader& r, const Item& item, SocketAddress& out) {
  auto s = r.text(item);
  if (!s) return;
  auto addr = SocketAddress::parse(*s);
  if (!addr)
    return r.error(item, "expected ADDRESS:PORT, e.g. 127.0.0.1:9641 or [::1]:9641, got " + shown(*s));
  out = *addr;
}

void readHttp(Reader& r, const Item& item, Config& cfg) {
  readFields(r, item, kHttpFields, cfg.http);
  if (cfg.http.connectionsPerIp >= cfg.http.maxConnections)
    r.error(fieldItem(item, "connections_per_ip"), "must be below max_connections (" +
                                                       std::to_string(cfg.http.maxConnections) +
                                                       "), or one address could take every connection");
}

void readAnomalies(Reader& r, const Item& item, Config& cfg) {
  readFields(r, item, kAnomaliesFields, cfg.anomalies);
}

void readAdmin(Reader& r, const Item& item, Config& cfg) { readFields(r, item, kAdminFields, cfg.admin); }

void readEvents(Reader& r, const Item& item, Config& cfg) { readFields(r, item, kEventsFields, cfg.events); }

void readUsage(Reader& r, const Item& item, Config& cfg) { readFields(r, item, kUsageFields, cfg.usage); }

void readMetrics(Reader& r, const Item& item, Config& cfg) {
  readFields(r, item, kMetricsFields, cfg.metrics);
}

}  // namespace tw::policy::config_detail
