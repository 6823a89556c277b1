#include "relay/io/stream_framer.h"

#include <catch2/catch.hpp>
#include <vector>

#include "relay/stun/builder.h"
#include "relay/stun/channel_data.h"

namespace tw::io {
namespace {

using Frames = std::vector<std::vector<uint8_t>>;

std::vector<uint8_t> bindingRequest(uint8_t seed) {
  std::vector<uint8_t> out;
  stun::TransactionId txn{};
  txn.fill(seed);
  stun::MessageBuilder b(out, stun::Method::Binding, stun::MessageClass::Request, txn);
  b.addBytes(stun::attr::Software, std::vector<uint8_t>(5, seed));  // 5 -> padded to 8
  return out;
}

std::vector<uint8_t> channelData(uint16_t channel, size_t payloadLen) {
  std::vector<uint8_t> out;
  std::vector<uint8_t> payload(payloadLen, 0xAB);
  stun::encodeChannelData(out, channel, payload, /*padTo4=*/true);
  return out;
}

Status<FrameError> feedAll(StreamFramer& f, std::span<const uint8_t> bytes, Frames& got, size_t chunk) {
  for (size_t i = 0; i < bytes.size(); i += chunk) {
    const size_t n = std::min(chunk, bytes.size() - i);
    auto st = f.feed(bytes.subspan(i, n),
                     [&](std::span<const uint8_t> fr) { got.emplace_back(fr.begin(), fr.end()); });
    if (!st) return st;
  }
  return {};
}

}  // namespace

TEST_CASE("framer: pipelined STUN and padded ChannelData frames come out whole and in order") {
  const auto stunA = bindingRequest(1);
  const auto cd = channelData(0x4001, 5);  // 4 + 5 -> 12 with padding
  const auto stunB = bindingRequest(2);
  REQUIRE(cd.size() == 12);
  std::vector<uint8_t> stream;
  for (const auto* f : {&stunA, &cd, &stunB}) stream.insert(stream.end(), f->begin(), f->end());

  for (size_t chunk : {size_t{1}, size_t{3}, size_t{7}, stream.size()}) {
    INFO("chunk size " << chunk);
    StreamFramer framer(4096);
    Frames got;
    REQUIRE(feedAll(framer, stream, got, chunk).ok());
    REQUIRE(got == Frames{stunA, cd, stunB});
    CHECK(framer.buffered() == 0);
  }
}

TEST_CASE("framer: a partial frame is held until the rest arrives") {
  const auto msg = bindingRequest(3);
  StreamFramer framer(4096);
  Frames got;
  auto sink = [&](std::span<const uint8_t> fr) { got.emplace_back(fr.begin(), fr.end()); };
  REQUIRE(framer.feed(std::span(msg).first(msg.size() - 1), sink).ok());
  CHECK(got.empty());
  CHECK(framer.buffered() == msg.size() - 1);
  REQUIRE(framer.feed(std::span(msg).last(1), sink).ok());
  REQUIRE(got.size() == 1);
  CHECK(got[0] == msg);
}

TEST_CASE("framer: a length claim above the cap fails at the header, without buffering the body") {
  StreamFramer framer(16384);
  // ChannelData header claiming 65,535 bytes, then silence.
  const std::vector<uint8_t> header{0x40, 0x00, 0xFF, 0xFF};
  bool delivered = false;
  auto st = framer.feed(header, [&](auto) { delivered = true; });
  REQUIRE_FALSE(st.ok());
  CHECK(st.error() == FrameError::TooLarge);
  CHECK_FALSE(delivered);
  CHECK(framer.buffered() == 0);
  // The stream stays failed.
  auto again = framer.feed(bindingRequest(4), [&](auto) { delivered = true; });
  CHECK_FALSE(again.ok());
  CHECK_FALSE(delivered);
}

TEST_CASE("framer: a frame exactly at the cap is accepted, one byte over is refused") {
  const auto cd = channelData(0x4002, 100);  // 104 bytes
  StreamFramer exact(cd.size());
  Frames got;
  REQUIRE(feedAll(exact, cd, got, 1).ok());
  CHECK(got.size() == 1);
  StreamFramer under(cd.size() - 1);
  Frames none;
  auto st = feedAll(under, cd, none, 1);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error() == FrameError::TooLarge);
  CHECK(none.empty());
}

TEST_CASE("framer: desynchronised streams are refused") {
  SECTION("first bits 0b10") {
    StreamFramer f(4096);
    auto st = f.feed(std::vector<uint8_t>{0x80, 0x01, 0x00, 0x04, 0, 0, 0, 0}, [](auto) {});
    REQUIRE_FALSE(st.ok());
    CHECK(st.error() == FrameError::Desync);
  }
  SECTION("STUN length not a multiple of 4, after a good frame") {
    StreamFramer f(4096);
    auto good = bindingRequest(5);
    std::vector<uint8_t> bad{0x00, 0x01, 0x00, 0x05};
    good.insert(good.end(), bad.begin(), bad.end());
    int frames = 0;
    auto st = f.feed(good, [&](auto) { ++frames; });
    CHECK(frames == 1);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error() == FrameError::Desync);
  }
}

TEST_CASE("framer: fewer than 4 bytes wait for more") {
  StreamFramer f(4096);
  int frames = 0;
  REQUIRE(f.feed(std::vector<uint8_t>{0x40, 0x01}, [&](auto) { ++frames; }).ok());
  CHECK(frames == 0);
  CHECK(f.buffered() == 2);
  // Length 0 ChannelData: a 4-byte frame.
  REQUIRE(f.feed(std::vector<uint8_t>{0x00, 0x00}, [&](auto) { ++frames; }).ok());
  CHECK(frames == 1);
  CHECK(f.buffered() == 0);
}

TEST_CASE("framer: stop() inside a frame keeps every later byte unparsed for takeBuffered()") {
  StreamFramer f(16384);
  std::vector<uint8_t> stream = bindingRequest(1);
  const std::vector<uint8_t> raw{0xFF, 0xFE, 'r', 'a', 'w'};  // not STUN: would desync
  stream.insert(stream.end(), raw.begin(), raw.end());
  Frames got;
  auto st = f.feed(stream, [&](std::span<const uint8_t> fr) {
    got.emplace_back(fr.begin(), fr.end());
    f.stop();
  });
  REQUIRE(st.ok());
  REQUIRE(got.size() == 1);
  CHECK(got[0] == bindingRequest(1));
  CHECK(f.stopped());
  CHECK(f.takeBuffered() == raw);
  CHECK(f.buffered() == 0);
}

}  // namespace tw::io
