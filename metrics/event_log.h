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
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "relay/base/handle.h"

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
  EventLog(std::string path, size_t capacity, std::function<void()> onDrop = {});
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  /// Queues `e`; false (and counted) when the queue is full.
  bool push(SecurityEvent e);
  /// Asks the writer to reopen the file (thread-safe, async-signal context excluded).
  void reopen();
  /// Writes what is queued and stops the writer.
  void stop();
  uint64_t dropped() const;
  /// Blocks until everything pushed so far is written (tests, shutdown).
  void flush();

 private:
  void writerLoop();
  bool openFile();

  std::string path_;
  size_t capacity_;
  std::function<void()> onDrop_;
  Handle<FILE, fclose> file_;  ///< the events file, when one is open
  FILE* out_ = nullptr;         ///< file_ or stderr
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<SecurityEvent> queue_;
  bool reopen_ = false;
  bool stopping_ = false;
  bool writing_ = false;
  uint64_t dropped_ = 0;
  std::thread writer_;
};

}  // namespace tw::metrics
