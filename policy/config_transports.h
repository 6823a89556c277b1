#pragma once
// Internal to the config layer: the `transports:` section (stream and
// handshake limits), read with the table-driven reader of config_reader.h.
#include "policy/config_reader.h"

namespace tw::policy::config_detail {

/// Reads `transports:` into cfg.transports, reporting FILE:LINE:COL errors.
void readTransportsSection(Reader& r, const Item& item, Config& cfg);

/// Reads the top-level trusted_proxies: (a list of addresses, CIDRs or
/// ranges, as the peer rules take them; a range covering a whole family is
/// refused: it would trust every client's word on its own address).
void readTrustedProxies(Reader& r, const Item& item, Config& cfg);

/// After the whole file: a listener with proxy_protocol needs trusted_proxies;
/// the list is copied to the sections whose readers use it.
void finishTrustedProxies(Reader& r, const Item& root, Config& cfg);

}  // namespace tw::policy::config_detail
