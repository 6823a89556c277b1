#pragma once
// Internal to the config layer: readers of the observability sections
// (metrics:, events:, admin:), kept out of config.cc so that file only gains a table row.
#include "policy/config_reader.h"

namespace tw::policy::config_detail {

/// metrics: {enabled: bool, listen: ADDRESS:PORT}
void readMetrics(Reader& r, const Item& item, Config& cfg);
/// events: {file: PATH, queue: N, sample_window: DURATION}
void readEvents(Reader& r, const Item& item, Config& cfg);
/// admin: {listen: ADDRESS:PORT, token_file: PATH}; both required together.
void readAdmin(Reader& r, const Item& item, Config& cfg);

}  // namespace tw::policy::config_detail
