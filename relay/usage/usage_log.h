#pragma once
// The usage file sink (usage.file, docs/usage.md): records as JSON lines,
// written by a LineWriter thread (bounded queue, reopened on SIGUSR1 like the
// event log). One per process, shared by every worker's UsageRecorder.
#include <atomic>
#include <cstdint>
#include <string>

#include "relay/base/line_writer.h"
#include "relay/usage/recorder.h"

namespace tw::usage {

class UsageLog final : public RecordSink {
 public:
  UsageLog(std::string path, size_t queue) : lines_(std::move(path), queue) {}

  /// Formats on the calling worker (at its tick or an allocation's end) and queues.
  void put(const UsageRecord& r) override {
    if (lines_.push(formatRecord(r))) records_.fetch_add(1, std::memory_order_relaxed);
  }
  void reopen() { lines_.reopen(); }
  void flush() { lines_.flush(); }
  /// Writes every queued record, then closes the file (after the workers ended
  /// their allocations: their final records are in the queue).
  void stop() { lines_.stop(); }
  uint64_t records() const { return records_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return lines_.dropped(); }
  bool toFile() const { return lines_.toFile(); }

 private:
  LineWriter lines_;
  std::atomic<uint64_t> records_{0};
};

}  // namespace tw::usage
