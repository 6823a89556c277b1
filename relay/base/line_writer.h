#pragma once
// Lines to a file (or stderr) written by a thread of their own, so the
// threads that produce them never wait on I/O: push() appends to a bounded
// queue (a full queue drops the line and counts it); the writer drains it.
// reopen() (SIGUSR1) makes the writer reopen the file after logrotate moved
// it; stop() writes everything queued first. The security event log
// (metrics/event_log.h) and the usage records (usage/usage_log.h) share it.
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace tw {

class LineWriter {
 public:
  /// `path` empty: stderr. A file that cannot be opened falls back to stderr
  /// (nothing is lost silently). `onDrop` runs on the pushing thread per dropped line.
  LineWriter(std::string path, size_t capacity, std::function<void()> onDrop = {});
  ~LineWriter();
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  /// Queues `line` (which ends in '\n'); false (and counted) when the queue is
  /// full or the writer stopped.
  bool push(std::string line);
  /// Asks the writer to reopen the file (thread-safe; not from a signal handler).
  void reopen();
  /// Blocks until everything pushed so far is written.
  void flush();
  /// Writes what is queued and stops the writer; later pushes are dropped.
  void stop();
  uint64_t dropped() const;
  /// Whether the file named at construction is open (false: writing to stderr).
  bool toFile() const;

 private:
  void writerLoop();
  void openFile();

  std::string path_;
  size_t capacity_;
  std::function<void()> onDrop_;
  FILE* out_ = nullptr;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<std::string> queue_;
  bool reopen_ = false;
  bool stopping_ = false;
  bool writing_ = false;
  uint64_t dropped_ = 0;
  std::thread writer_;
};

}  // namespace tw
