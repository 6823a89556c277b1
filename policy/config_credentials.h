#pragma once
// Internal to the config layer: the credentials: section (the JWT ->
// TURN credentials endpoint, docs/credentials.md), one row in config.cc's
// root table. With Reader::checkFiles() (loadConfig: check-config, start-up,
// every reload) the JWKS file is read and parsed here, so a reload loads the
// application's keys together with the rest of the policy.
#include "policy/config_reader.h"

namespace tw::policy::config_detail {

/// credentials: {listen, jwks_file, issuer, audience, ttl, allowed_origins,
/// cert, key, insecure_http, requests_per_ip, requests_per_user}
void readCredentials(Reader& r, const Item& item, Config& cfg);

/// True for "scheme://host[:port]" with scheme http or https, a non-empty
/// host and nothing after it (no path, no trailing '/'), as a browser sends
/// in the Origin header.
bool isOrigin(std::string_view text);

}  // namespace tw::policy::config_detail
