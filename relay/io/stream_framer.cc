#include "relay/io/stream_framer.h"

#include "relay/stun/framing.h"

namespace tw::io {

const char* toString(FrameError e) {
  switch (e) {
    case FrameError::Desync:
      return "desync";
    case FrameError::TooLarge:
      return "too_large";
  }
  return "unknown";
}

Status<FrameError> StreamFramer::fail(FrameError e) {
  failed_ = e;
  buf_.clear();
  buf_.shrink_to_fit();
  return err(e);
}

Status<FrameError> StreamFramer::feed(std::span<const uint8_t> bytes, const OnFrame& onFrame) {
  if (failed_) return err(*failed_);
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
  size_t pos = 0;
  while (!stopped_ && buf_.size() - pos >= 4) {
    const std::span<const uint8_t> rest(buf_.data() + pos, buf_.size() - pos);
    auto len = stun::streamFrameLength(rest);
    if (!len) return fail(FrameError::Desync);
    if (*len > maxFrame_) return fail(FrameError::TooLarge);
    if (rest.size() < *len) break;
    onFrame(rest.first(*len));
    pos += *len;
  }
  buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos));
  return {};
}

}  // namespace tw::io
