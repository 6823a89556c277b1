#include "metrics/event_log.h"

#include <cstdio>
#include <ctime>

#include "relay/base/json.h"

namespace tw::metrics {

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  // Sized for any int, so -Wformat-truncation has nothing to say; the value is 0..999.
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%03dZ", int((ms % 1000 + 1000) % 1000));
  return std::string(date) + frac;
}

std::string formatEvent(const SecurityEvent& e) {
  std::string line = "{\"ts\":\"" + rfc3339(e.ts) + "\"";
  auto field = [&](const char* key, const std::string& value) {
    line += ",\"";
    line += key;
    line += "\":" + jsonString(value);
  };
  field("type", e.type);
  field("severity", e.severity);
  field("user", e.user);
  field("client_ip", e.clientIp);
  field("peer", e.peer);
  field("rule", e.rule);
  field("details", e.details);
  return line + "}\n";
}

}  // namespace tw::metrics
