#include "relay/base/log.h"

#include <ctime>

namespace tw {

namespace {
const char* levelName(LogLevel l) {
  switch (l) {
    case LogLevel::Debug:
      return "DEBUG";
    case LogLevel::Info:
      return "INFO";
    case LogLevel::Warn:
      return "WARN";
    case LogLevel::Error:
      return "ERROR";
  }
  return "?";
}
}  // namespace

void Logger::log(LogLevel level, std::string_view message) {
  if (!enabled(level)) return;
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char stamp[40];
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::lock_guard lock(mu_);
  std::fprintf(out_, "%s.%03ldZ %s %.*s\n", stamp, ts.tv_nsec / 1000000, levelName(level),
               static_cast<int>(message.size()), message.data());
  std::fflush(out_);
}

std::string sanitize(std::string_view text, size_t maxLen) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() < maxLen ? text.size() : maxLen);
  for (unsigned char c : text) {
    if (out.size() >= maxLen) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7F && c != '\\' && c != '"' && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

}  // namespace tw
