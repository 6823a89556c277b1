#include "metrics/event_log.h"

#include <cstdio>
#include <ctime>
#include <utility>

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

EventLog::EventLog(std::string path, size_t capacity, std::function<void()> onDrop)
    : path_(std::move(path)), capacity_(capacity), onDrop_(std::move(onDrop)) {
  openFile();
  writer_ = std::thread([this] { writerLoop(); });
}

EventLog::~EventLog() { stop(); }

bool EventLog::openFile() {
  if (path_.empty()) {
    out_ = stderr;
    return true;
  }
  file_.reset(std::fopen(path_.c_str(), "ae"));  // append, close-on-exec; the old one closed
  out_ = file_ ? file_.get() : stderr;           // never lose events silently: fall back
  return out_ != stderr;
}

bool EventLog::push(SecurityEvent e) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && queue_.size() < capacity_) {
      queue_.push_back(std::move(e));
      wake_.notify_one();
      return true;
    }
    ++dropped_;
  }
  if (onDrop_) onDrop_();
  return false;
}

void EventLog::reopen() {
  std::lock_guard lock(mu_);
  reopen_ = true;
  wake_.notify_one();
}

uint64_t EventLog::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void EventLog::flush() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return (queue_.empty() && !writing_) || !writer_.joinable(); });
}

void EventLog::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
  out_ = nullptr;
  file_.reset();
  idle_.notify_all();
}

void EventLog::writerLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || reopen_ || !queue_.empty(); });
    std::deque<SecurityEvent> batch;
    batch.swap(queue_);
    const bool reopen = std::exchange(reopen_, false);
    const bool last = stopping_;
    writing_ = true;
    lock.unlock();
    if (reopen) openFile();
    for (const auto& e : batch) std::fputs(formatEvent(e).c_str(), out_);
    std::fflush(out_);
    lock.lock();
    writing_ = false;
    idle_.notify_all();
    if (last && queue_.empty()) return;
  }
}

}  // namespace tw::metrics
