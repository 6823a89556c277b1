#pragma once
// Cuts STUN messages and ChannelData frames out of a byte stream (TCP/TLS,
// RFC 8656 §12.5 and RFC 8489 §6.2.2). Pure: bytes in, frames out, so the
// awkward cases (a frame split byte by byte, several frames in one read, a
// length claim larger than the cap) are unit-tested without sockets.
//
//   STUN:        |00| type (14) | length (16) | ...length bytes...
//   ChannelData: |01| channel   | length (16) | ...data... | pad to 4 |
//
// The length lives in the first 4 bytes of every frame, so the framer reads
// them first and refuses a claim above the cap *before* buffering the body:
// a 65,535-byte claim followed by silence never grows the buffer.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "relay/base/result.h"

namespace tw::io {

enum class FrameError {
  Desync,    ///< First two bits 0b10/0b11, or a STUN length not a multiple of 4.
  TooLarge,  ///< The header claims a frame longer than the cap.
};

const char* toString(FrameError e);

class StreamFramer {
 public:
  using OnFrame = std::function<void(std::span<const uint8_t>)>;

  /// `maxFrame` bounds one frame and so the bytes kept between reads.
  explicit StreamFramer(size_t maxFrame) : maxFrame_(maxFrame) {}

  /// Appends `bytes` and calls `onFrame` for every complete frame, in order.
  /// After an error the stream is unusable (the caller closes it) and every
  /// later call returns the same error without delivering anything.
  Status<FrameError> feed(std::span<const uint8_t> bytes, const OnFrame& onFrame);

  /// Bytes of an incomplete frame held back for the next read.
  size_t buffered() const { return buf_.size(); }

  /// Called from inside onFrame: feed() returns after this frame and keeps
  /// every later byte unparsed, for takeBuffered(). A stream that stops
  /// being STUN (RFC 6062 ConnectionBind) hands its remaining bytes on as-is.
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }
  /// The unparsed bytes after stop() (or of an incomplete frame); empties them.
  std::vector<uint8_t> takeBuffered() { return std::exchange(buf_, {}); }

 private:
  Status<FrameError> fail(FrameError e);

  size_t maxFrame_;
  std::vector<uint8_t> buf_;
  std::optional<FrameError> failed_;
  bool stopped_ = false;
};

}  // namespace tw::io
