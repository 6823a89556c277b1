#pragma once
// A small leveled logger. It is an object that is passed around (no global
// logger). Every string that may come from a client goes through
// sanitize() so that quotes, CR/LF, NUL, %n and ANSI escapes stay inert.
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace tw {

enum class LogLevel { Debug, Info, Warn, Error };

class Logger {
 public:
  explicit Logger(FILE* out = stderr, LogLevel min = LogLevel::Info) : out_(out), min_(min) {}
  void setLevel(LogLevel l) { min_ = l; }
  bool enabled(LogLevel l) const { return l >= min_; }
  /// Writes one line: "<ts> <LEVEL> <message>\n". The message is written as
  /// given; callers wrap untrusted parts with sanitize().
  void log(LogLevel level, std::string_view message);
  void debug(std::string_view m) { log(LogLevel::Debug, m); }
  void info(std::string_view m) { log(LogLevel::Info, m); }
  void warn(std::string_view m) { log(LogLevel::Warn, m); }
  void error(std::string_view m) { log(LogLevel::Error, m); }

 private:
  FILE* out_;
  LogLevel min_;
  std::mutex mu_;
};

/// Makes untrusted text printable: bytes outside 0x20..0x7E, backslash and
/// double quote become \xNN escapes; the result is capped at maxLen bytes.
std::string sanitize(std::string_view text, size_t maxLen = 128);

}  // namespace tw
