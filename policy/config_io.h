#pragma once
// Internal to the config layer: the `io:` section (io_uring and send
// batching), read with the table-driven reader of config_reader.h.
#include "policy/config_reader.h"

namespace tw::policy::config_detail {

/// Reads `io:` into cfg.io, reporting FILE:LINE:COL errors.
void readIoSection(Reader& r, const Item& item, Config& cfg);

}  // namespace tw::policy::config_detail
