// libFuzzer target: ChannelData decoding and the TCP/TLS stream framer.
//
// Input: a max-frame byte, a chunking seed, then a byte stream. The stream is
// fed to one StreamFramer whole and to another in fuzzer-chosen chunks
// (down to one byte). Invariants:
//  - both framers deliver the same frames and end in the same state
//    (a frame split anywhere is still one frame);
//  - every frame's length is the one its first 4 bytes announce and never
//    above the cap; nothing above the cap is ever buffered;
//  - each ChannelData frame decodes (with its stream padding) and each
//    datagram-sized piece is classified without reading past its end.
#include <vector>

#include "relay/io/stream_framer.h"
#include "relay/stun/channel_data.h"
#include "relay/stun/framing.h"
#include "relay/stun/message.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace tw;

struct Run {
  std::vector<std::vector<uint8_t>> frames;
  bool failed = false;
  size_t maxBuffered = 0;
};

Run feedAll(size_t maxFrame, std::span<const uint8_t> stream, tw::fuzz::FuzzInput* chunker) {
  io::StreamFramer framer(maxFrame);
  Run run;
  auto onFrame = [&](std::span<const uint8_t> f) { run.frames.emplace_back(f.begin(), f.end()); };
  while (!stream.empty() && !run.failed) {
    size_t n = stream.size();
    if (chunker) n = std::min<size_t>(n, 1 + chunker->u8() % 64);
    run.failed = !framer.feed(stream.first(n), onFrame).ok();
    run.maxBuffered = std::max(run.maxBuffered, framer.buffered());
    stream = stream.subspan(n);
  }
  return run;
}

void checkFrame(std::span<const uint8_t> f, size_t maxFrame) {
  const auto announced = stun::streamFrameLength(f);
  FUZZ_CHECK(announced.has_value());
  FUZZ_CHECK(*announced == f.size());
  FUZZ_CHECK(f.size() <= maxFrame);
  if (stun::isChannelData(f)) {
    auto cd = stun::decodeChannelData(f);
    FUZZ_CHECK(cd.ok());
    FUZZ_CHECK(cd->payload.size() + stun::kChannelDataHeaderSize <= f.size());
  } else {
    (void)stun::decode(f);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tw::fuzz::FuzzInput in(data, size);
  const size_t maxFrame = 20 + 4 * size_t(in.u8());  // 20..1040
  const auto seed = in.bytes(32);
  const auto stream = in.all();
  tw::fuzz::FuzzInput chunker(seed.data(), seed.size());
  const Run whole = feedAll(maxFrame, stream, nullptr);
  const Run pieces = feedAll(maxFrame, stream, &chunker);
  FUZZ_CHECK(whole.frames == pieces.frames);
  FUZZ_CHECK(whole.failed == pieces.failed);
  // Between reads only an incomplete frame is kept, so never a whole cap's worth.
  FUZZ_CHECK(whole.maxBuffered < maxFrame);
  FUZZ_CHECK(pieces.maxBuffered < maxFrame);
  for (const auto& f : whole.frames) checkFrame(f, maxFrame);
  // The same bytes as one UDP datagram: ChannelData or STUN, never an over-read.
  if (stun::isChannelData(stream)) (void)stun::decodeChannelData(stream);
  return 0;
}
