#pragma once
// Internal to the config layer: readers of the quotas:, rate_limits: and
// bans: sections and of auth.blocked_users (config_quotas.cc), each one row
// in config.cc's field tables.
#include "policy/config_reader.h"

namespace tw::policy::config_detail {

void readQuotas(Reader& r, const Item& item, Config& cfg);
void readRateLimits(Reader& r, const Item& item, Config& cfg);
void readBans(Reader& r, const Item& item, Config& cfg);
void readBlockedUsers(Reader& r, const Item& seq, AuthConfig& out);

}  // namespace tw::policy::config_detail
