#pragma once
// The security event log: one JSON object per line, to stderr or a file.
//
//   {"ts":"2026-11-26T04:58:00.123Z","type":"auth_failure","severity":"warning",
//    "user":"...","client_ip":"...","peer":"...","rule":"...","details":"..."}
//
// push() never blocks on I/O: events go into a bounded queue that a writer
// thread drains; when the queue is full the event is dropped and counted.
// reopen() (SIGUSR1) makes the writer reopen the file, so logrotate works.
// Every string is written through tw::jsonString, so a username holding
// quotes, newlines, "%n" or ANSI escapes stays inert text on one line.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "relay/base/line_writer.h"

namespace tw::metrics {

struct SecurityEvent {
  std::string type;      ///< auth_failure, peer_denied, ban, anomaly, reload, rotation, admin...
  std::string severity;  ///< info, warning, critical
  std::string user;
  std::string clientIp;
  std::string peer;
  std::string rule;
  std::string details;
  std::chrono::system_clock::time_point ts = std::chrono::system_clock::now();
};

/// "2026-11-26T04:58:00.123Z" (RFC 3339, UTC, milliseconds).
std::string rfc3339(std::chrono::system_clock::time_point t);
/// The JSON line for `e`, ending in '\n'.
std::string formatEvent(const SecurityEvent& e);

class EventLog {
 public:
  /// `path` empty: stderr. `onDrop` runs (on the pushing thread) per dropped event.
  EventLog(std::string path, size_t capacity, std::function<void()> onDrop = {})
      : lines_(std::move(path), capacity, std::move(onDrop)) {}

  /// Queues `e` as its JSON line; false (and counted) when the queue is full.
  bool push(const SecurityEvent& e) { return lines_.push(formatEvent(e)); }
  /// Asks the writer to reopen the file (thread-safe, async-signal context excluded).
  void reopen() { lines_.reopen(); }
  /// Writes what is queued and stops the writer.
  void stop() { lines_.stop(); }
  uint64_t dropped() const { return lines_.dropped(); }
  /// Blocks until everything pushed so far is written (tests, shutdown).
  void flush() { lines_.flush(); }

 private:
  LineWriter lines_;  // the writer thread and its bounded queue (relay/base)
};

}  // namespace tw::metrics
