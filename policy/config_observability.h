#pragma once
// Internal to the config layer: readers of the observability sections
// (metrics:, events:, admin:, anomalies:), kept out of config.cc so that file only gains a table row.
#include "policy/config_reader.h"

namespace tw::policy::config_detail {

/// An HTTP listener: "127.0.0.1:9641" or "[::1]:9641"; port 0 lets the kernel pick (tests).
void readListen(Reader& r, const Item& item, SocketAddress& out);
/// metrics: {enabled: bool, listen: ADDRESS:PORT}
void readMetrics(Reader& r, const Item& item, Config& cfg);
/// events: {file: PATH, queue: N, sample_window: DURATION}
void readEvents(Reader& r, const Item& item, Config& cfg);
/// usage: {file: PATH, interval: DURATION (>= 1s), queue: N, top_users: N}
void readUsage(Reader& r, const Item& item, Config& cfg);
/// admin: {listen: ADDRESS:PORT, token_file: PATH}; both required together.
void readAdmin(Reader& r, const Item& item, Config& cfg);
/// http: {max_connections: N, connections_per_ip: N, request_timeout: DURATION}
void readHttp(Reader& r, const Item& item, Config& cfg);
/// anomalies: flat detector thresholds.
void readAnomalies(Reader& r, const Item& item, Config& cfg);

}  // namespace tw::policy::config_detail
