#pragma once
// Internal to the config layer: readers of the quotas:, rate_limits: and
// bans: sections and of auth.blocked_users (config_quotas.cc), each one row
// in config.cc's field tables.
#include "policy/config_reader.h"

namespace tw::policy::config_detail {

void readQuotas(Reader& r, const Item& item, Config& cfg);
void readRateLimits(Reader& r, const Item& item, Config& cfg);
void readBans(Reader& r, const Item& item, Config& cfg);
/// {rate: N, burst: M} (per second; burst defaults to one second's worth).
void readBucket(Reader& r, const Item& item, RateConfig& out);
void readBlockedUsers(Reader& r, const Item& seq, AuthConfig& out);
void readRotation(Reader& r, const Item& item, std::optional<RotationConfig>& out);
/// grace >= max_ttl, and rotation needs auth.secrets_file (auth map `item`).
void checkRotation(Reader& r, const Item& item, const AuthConfig& auth);
/// The same for the rotation: key of map `item`, named `section` in errors
/// ("auth", "auth.realms.REALM").
void checkRotation(Reader& r, const Item& item, std::string_view section,
                   const std::optional<RotationConfig>& rotation, const std::string& secretsFile,
                   int64_t maxTtlSeconds);

}  // namespace tw::policy::config_detail
