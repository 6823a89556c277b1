#pragma once
// Internal to the config layer: the fleet: section (config_fleet.cc), one row
// in config.cc's root table.
#include "policy/config_reader.h"

namespace tw::policy::config_detail {

/// fleet: {redis: {address, password_file, db}, node_id, heartbeat}
void readFleet(Reader& r, const Item& item, Config& cfg);

}  // namespace tw::policy::config_detail
