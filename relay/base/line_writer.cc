#include "relay/base/line_writer.h"

#include <utility>

namespace tw {

LineWriter::LineWriter(std::string path, size_t capacity, std::function<void()> onDrop)
    : path_(std::move(path)), capacity_(capacity), onDrop_(std::move(onDrop)) {
  openFile();
  writer_ = std::thread([this] { writerLoop(); });
}

LineWriter::~LineWriter() { stop(); }

void LineWriter::openFile() {
  if (out_ && out_ != stderr) std::fclose(out_);
  out_ = path_.empty() ? nullptr : std::fopen(path_.c_str(), "ae");  // append, close-on-exec
  if (!out_) out_ = stderr;
}

bool LineWriter::toFile() const {
  std::lock_guard lock(mu_);
  return out_ && out_ != stderr;
}

bool LineWriter::push(std::string line) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && queue_.size() < capacity_) {
      queue_.push_back(std::move(line));
      wake_.notify_one();
      return true;
    }
    ++dropped_;
  }
  if (onDrop_) onDrop_();
  return false;
}

void LineWriter::reopen() {
  std::lock_guard lock(mu_);
  reopen_ = true;
  wake_.notify_one();
}

uint64_t LineWriter::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void LineWriter::flush() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return (queue_.empty() && !writing_) || !writer_.joinable(); });
}

void LineWriter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
  std::lock_guard lock(mu_);
  if (out_ && out_ != stderr) std::fclose(out_);
  out_ = nullptr;
  idle_.notify_all();
}

void LineWriter::writerLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || reopen_ || !queue_.empty(); });
    std::deque<std::string> batch;
    batch.swap(queue_);
    const bool reopen = std::exchange(reopen_, false);
    const bool last = stopping_;
    writing_ = true;
    FILE* out = out_;
    lock.unlock();
    if (reopen) {
      // Only this thread writes out_ while it runs; toFile() reads it under mu_.
      std::unique_lock relock(mu_);
      openFile();
      out = out_;
    }
    for (const auto& line : batch) std::fputs(line.c_str(), out);
    std::fflush(out);
    lock.lock();
    writing_ = false;
    idle_.notify_all();
    if (last && queue_.empty()) return;
  }
}

}  // namespace tw
