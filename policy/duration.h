#pragma once
// Human-readable durations for the config file ("30s", "5m", "1h30m").
// Operators write lifetimes and TTLs in these units; a bare integer means
// seconds because that is what RFC 8656 LIFETIME and the REST API use.
#include <optional>
#include <string>
#include <string_view>

#include "relay/base/clock.h"

namespace tw::policy {

/// Parses "250ms", "30s", "5m", "1h", "7d", compounds in decreasing unit order
/// without repeats ("1h30m", "1m30s500ms"), or a bare non-negative integer
/// (seconds). No sign, no fractions, no spaces: an ambiguous duration in a
/// security config is refused rather than guessed. nullopt on bad syntax or
/// on overflow of the millisecond count.
std::optional<tw::Duration> parseDuration(std::string_view text);

/// Canonical compact text that parseDuration() reads back exactly:
/// 0 -> "0s", 90s -> "1m30s", 1500ms -> "1s500ms", 86400s -> "1d".
/// A negative duration is printed with a leading '-' (not parseable).
std::string formatDuration(tw::Duration d);

}  // namespace tw::policy
