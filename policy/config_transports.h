#pragma once
// Internal to the config layer: the `transports:` section (stream and
// handshake limits), read with the table-driven reader of config_reader.h.
#include "policy/config_reader.h"

namespace tw::policy::config_detail {

/// Reads `transports:` into cfg.transports, reporting FILE:LINE:COL errors.
void readTransportsSection(Reader& r, const Item& item, Config& cfg);

}  // namespace tw::policy::config_detail
