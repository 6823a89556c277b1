// quotas:, rate_limits:, bans: and auth.blocked_users (docs/config.md).
#include "policy/config_quotas.h"

#include <algorithm>
#include <charconv>

namespace tw::policy::config_detail {
namespace {

constexpr int64_t kMaxCount = 10'000'000;
constexpr int64_t kMaxBps = int64_t{1} << 40;  // ~1 TB/s: anything above is a typo

template <size_t QuotasConfig::*Member>
void readCount(Reader& r, const Item& item, QuotasConfig& out) {
  if (auto n = r.integer(item, 0, kMaxCount)) out.*Member = static_cast<size_t>(*n);
}

template <uint64_t QuotasConfig::*Member>
void readBps(Reader& r, const Item& item, QuotasConfig& out) {
  if (auto n = r.integer(item, 0, kMaxBps)) out.*Member = static_cast<uint64_t>(*n);
}

/// quotas.permissions_per_allocation / channels_per_allocation are the
/// documented keys; limits.* with the same names remain as aliases (both
/// store into LimitsConfig, so the limits checks apply to either spelling).
struct QuotaDraft {
  QuotasConfig quotas;
  std::optional<size_t> permissions;
  std::optional<size_t> channels;
};

template <std::optional<size_t> QuotaDraft::*Member, int64_t Max>
void readPerAllocation(Reader& r, const Item& item, QuotaDraft& out) {
  if (auto n = r.integer(item, 1, Max)) out.*Member = static_cast<size_t>(*n);
}

template <void (*Read)(Reader&, const Item&, QuotasConfig&)>
void onQuotas(Reader& r, const Item& item, QuotaDraft& out) {
  Read(r, item, out.quotas);
}

/// "20GB", "500MB", "1TB", "1048576" (bytes; decimal units).
std::optional<uint64_t> parseBytes(std::string_view t) {
  static constexpr std::pair<std::string_view, uint64_t> kUnits[] = {
      {"TB", 1'000'000'000'000}, {"GB", 1'000'000'000}, {"MB", 1'000'000}, {"KB", 1'000}, {"B", 1}};
  uint64_t unit = 1;
  for (const auto& [suffix, scale] : kUnits) {
    if (t.size() > suffix.size() && t.substr(t.size() - suffix.size()) == suffix) {
      t.remove_suffix(suffix.size());
      unit = scale;
      break;
    }
  }
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec != std::errc{} || end != t.data() + t.size() || n > (uint64_t{1} << 60) / unit) return std::nullopt;
  return n * unit;
}

void readVolumeLimit(Reader& r, const Item& item, policy::VolumeLimit& out) {
  auto t = r.text(item);
  if (!t) return;
  auto n = parseBytes(*t);
  if (!n) return r.error(item, "expected a byte count like 20GB, 500MB or 1048576, got " + shown(*t));
  out.limit = *n;
}

constexpr std::array<Field<policy::VolumeLimit>, 2> kVolumeFields{{
    {"limit", readVolumeLimit, true},
    {"window",
     [](Reader& r, const Item& i, policy::VolumeLimit& v) {
       if (auto d = r.duration(i, std::chrono::seconds(1))) v.window = *d;
     }},
}};

void readBytesPerUser(Reader& r, const Item& item, QuotaDraft& out) {
  readFields(r, item, kVolumeFields, out.quotas.bytesPerUser);
}

constexpr std::array<Field<QuotaDraft>, 10> kQuotaFields{{
    {"per_user", onQuotas<readCount<&QuotasConfig::perUser>>},
    {"per_ip", onQuotas<readCount<&QuotasConfig::perIp>>},
    {"total", onQuotas<readCount<&QuotasConfig::total>>},
    {"max_bps", onQuotas<readBps<&QuotasConfig::maxBps>>},
    {"total_bps", onQuotas<readBps<&QuotasConfig::totalBps>>},
    {"permissions_per_allocation", readPerAllocation<&QuotaDraft::permissions, 65535>},
    {"channels_per_allocation", readPerAllocation<&QuotaDraft::channels, 0x4000>},
    {"tcp_connections_per_allocation", onQuotas<readCount<&QuotasConfig::tcpConnectionsPerAllocation>>},
    {"connects_per_minute", onQuotas<readCount<&QuotasConfig::connectsPerMinute>>},
    {"bytes_per_user", readBytesPerUser},
}};

void checkQuotas(Reader& r, const Item& item, const Config& cfg) {
  const QuotasConfig& q = cfg.quotas;
  if (q.totalBps != 0 && q.maxBps > q.totalBps) {
    r.error(fieldItem(item, "total_bps"), "total_bps (" + std::to_string(q.totalBps) +
                                              ") is below max_bps (" + std::to_string(q.maxBps) +
                                              "): no allocation could ever be made");
  }
  if (q.total != 0 && q.perUser > q.total) {
    r.error(fieldItem(item, "per_user"),
            "per_user (" + std::to_string(q.perUser) + ") exceeds total (" + std::to_string(q.total) + ")");
  }
  // permissions/channels per allocation against limits: checkPerAllocation
  // (config.cc), once both sections are read, in whichever order.
}

// ------------------------------------------------------------ rate_limits

void readRate(Reader& r, const Item& item, RateConfig& out) {
  if (auto n = r.integer(item, 0, 1'000'000)) out.rate = static_cast<uint32_t>(*n);
}

void readBurst(Reader& r, const Item& item, RateConfig& out) {
  if (auto n = r.integer(item, 1, 1'000'000)) out.burst = static_cast<uint32_t>(*n);
}

constexpr std::array<Field<RateConfig>, 2> kRateFields{{
    {"rate", readRate, true},
    {"burst", readBurst},
}};

constexpr std::array<Field<RateLimitsConfig>, 4> kRateLimitFields{{
    {"requests_per_source",
     [](Reader& r, const Item& i, RateLimitsConfig& o) { readBucket(r, i, o.requestsPerSource); }},
    {"unauthenticated_per_source",
     [](Reader& r, const Item& i, RateLimitsConfig& o) { readBucket(r, i, o.unauthenticatedPerSource); }},
    {"requests_per_ip",
     [](Reader& r, const Item& i, RateLimitsConfig& o) { readBucket(r, i, o.requestsPerIp); }},
    {"unauthenticated_per_ip",
     [](Reader& r, const Item& i, RateLimitsConfig& o) { readBucket(r, i, o.unauthenticatedPerIp); }},
}};

// ------------------------------------------------------------------- bans

void readThreshold(Reader& r, const Item& item, BansConfig& out) {
  if (auto n = r.integer(item, 0, 1'000'000)) out.threshold = static_cast<uint32_t>(*n);
}

void readWindow(Reader& r, const Item& item, BansConfig& out) {
  if (auto d = r.duration(item, std::chrono::seconds(1))) out.window = *d;
}

void readBanFor(Reader& r, const Item& item, BansConfig& out) {
  if (auto d = r.duration(item, std::chrono::seconds(1))) out.banFor = *d;
}

constexpr std::array<Field<BansConfig>, 3> kFailedAuthFields{{
    {"threshold", readThreshold},
    {"window", readWindow},
    {"ban_for", readBanFor},
}};

constexpr std::array<Field<BansConfig>, 1> kBansFields{{
    {"failed_auth", [](Reader& r, const Item& i, BansConfig& o) { readFields(r, i, kFailedAuthFields, o); }},
}};

}  // namespace

void readBucket(Reader& r, const Item& item, RateConfig& out) {
  RateConfig draft{0, 0};
  const size_t before = r.errorCount();
  readFields(r, item, kRateFields, draft);
  if (r.errorCount() != before || !item.node.IsMap()) return;
  // No burst given: one second's worth (at least 1).
  if (draft.burst == 0) draft.burst = std::max<uint32_t>(draft.rate, 1);
  out = draft;
}

void readQuotas(Reader& r, const Item& item, Config& cfg) {
  QuotaDraft draft{cfg.quotas, {}, {}};
  const size_t before = r.errorCount();
  readFields(r, item, kQuotaFields, draft);
  cfg.quotas = draft.quotas;
  if (draft.permissions) cfg.limits.permissionsPerAllocation = *draft.permissions;
  if (draft.channels) cfg.limits.channelsPerAllocation = *draft.channels;
  if (r.errorCount() == before && item.node.IsMap()) checkQuotas(r, item, cfg);
}

void readRateLimits(Reader& r, const Item& item, Config& cfg) {
  readFields(r, item, kRateLimitFields, cfg.rateLimits);
}

void readBans(Reader& r, const Item& item, Config& cfg) { readFields(r, item, kBansFields, cfg.bans); }

void readBlockedUsers(Reader& r, const Item& seq, AuthConfig& out) {
  r.forEach(seq, [&](const Item& item) {
    auto name = r.text(item);
    if (!name) return;
    const bool printable =
        std::all_of(name->begin(), name->end(), [](char c) { return c > 0x20 && c < 0x7F; });
    if (name->empty() || name->size() > 512 || !printable) {
      return r.error(item, "blocked user must be 1-512 printable ASCII characters without spaces");
    }
    if (std::find(out.blockedUsers.begin(), out.blockedUsers.end(), *name) != out.blockedUsers.end())
      return r.error(item, "duplicate blocked user " + shown(*name));
    out.blockedUsers.push_back(*name);
  });
}

}  // namespace tw::policy::config_detail
