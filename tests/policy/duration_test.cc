#include "policy/duration.h"

#include <catch2/catch.hpp>

#include "relay/base/random.h"

using tw::policy::formatDuration;
using tw::policy::parseDuration;
using namespace std::chrono_literals;

TEST_CASE("parseDuration reads each unit", "[duration]") {
  CHECK(parseDuration("250ms") == tw::Duration{250});
  CHECK(parseDuration("30s") == tw::Duration{30'000});
  CHECK(parseDuration("5m") == tw::Duration{300'000});
  CHECK(parseDuration("1h") == tw::Duration{3'600'000});
  CHECK(parseDuration("7d") == tw::Duration{604'800'000});
  CHECK(parseDuration("0s") == tw::Duration{0});
}

TEST_CASE("parseDuration: a bare integer is seconds", "[duration]") {
  CHECK(parseDuration("90") == tw::Duration{90'000});
  CHECK(parseDuration("0") == tw::Duration{0});
  CHECK(parseDuration("86400") == tw::Duration{24h});
}

TEST_CASE("parseDuration reads compounds in decreasing unit order", "[duration]") {
  CHECK(parseDuration("1h30m") == tw::Duration{90min});
  CHECK(parseDuration("1d2h3m4s5ms") == tw::Duration{24h + 2h + 3min + 4s + 5ms});
  CHECK(parseDuration("1m500ms") == tw::Duration{60'500});
  CHECK(parseDuration("1m30") == std::nullopt);   // trailing bare number is ambiguous
  CHECK(parseDuration("30m1h") == std::nullopt);  // increasing order
  CHECK(parseDuration("1m1m") == std::nullopt);   // repeated unit
  CHECK(parseDuration("1ms1s") == std::nullopt);
}

TEST_CASE("parseDuration refuses ambiguous or malformed text", "[duration]") {
  for (const char* bad : {"", " 5m", "5m ", "5 m", "-5m", "+5m", "1.5h", "5M", "5min", "m", "h1", "5w", "5y",
                          "1e3", "0x10", "5mm", "ms", "5sec", "1h-1m"}) {
    INFO(bad);
    CHECK(parseDuration(bad) == std::nullopt);
  }
}

TEST_CASE("parseDuration refuses overflow instead of wrapping", "[duration]") {
  CHECK(parseDuration("9223372036854775807ms") == tw::Duration{INT64_MAX});
  CHECK(parseDuration("9223372036854775808ms") == std::nullopt);
  CHECK(parseDuration("106751991167301d") == std::nullopt);
  CHECK(parseDuration("9223372036854775") == tw::Duration{9223372036854775000});
  CHECK(parseDuration("9223372036854776") == std::nullopt);  // seconds * 1000 overflows
  CHECK(parseDuration("106751991167d7h12m55s807ms") == tw::Duration{INT64_MAX});
  CHECK(parseDuration("106751991167d7h12m55s808ms") == std::nullopt);  // the sum overflows
}

TEST_CASE("formatDuration gives canonical compact text", "[duration]") {
  CHECK(formatDuration(0ms) == "0s");
  CHECK(formatDuration(250ms) == "250ms");
  CHECK(formatDuration(90s) == "1m30s");
  CHECK(formatDuration(1500ms) == "1s500ms");
  CHECK(formatDuration(24h) == "1d");
  CHECK(formatDuration(10min) == "10m");
  CHECK(formatDuration(25h + 1ms) == "1d1h1ms");
  CHECK(formatDuration(-90s) == "-1m30s");
  CHECK(formatDuration(tw::Duration{INT64_MIN}).front() == '-');
}

TEST_CASE("formatDuration output parses back to the same value", "[duration]") {
  tw::SeededRandom rng(7);
  for (int i = 0; i < 2000; ++i) {
    // Mix magnitudes so every unit shows up, including values near the top.
    int64_t ms = static_cast<int64_t>(rng.u64() >> (rng.below(63) + 1));
    auto back = parseDuration(formatDuration(tw::Duration{ms}));
    INFO(ms);
    REQUIRE(back);
    CHECK(back->count() == ms);
  }
  CHECK(parseDuration(formatDuration(tw::Duration{INT64_MAX})) == tw::Duration{INT64_MAX});
}
