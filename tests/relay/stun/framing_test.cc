#include "relay/stun/framing.h"

#include <catch2/catch.hpp>
#include <vector>

#include "relay/stun/builder.h"
#include "relay/stun/channel_data.h"
#include "stun_test_util.h"

using namespace tw::stun;
using namespace tw::stun::testing;

TEST_CASE("stream frame length for STUN is 20 + length") {
  CHECK(streamFrameLength(std::vector<uint8_t>{0x00, 0x01, 0x00, 0x00}) == 20u);
  CHECK(streamFrameLength(std::vector<uint8_t>{0x01, 0x01, 0x00, 0x3c}) == 80u);
  CHECK(streamFrameLength(std::vector<uint8_t>{0x00, 0x03, 0xFF, 0xFC}) == 20u + 0xFFFC);
  std::vector<uint8_t> msg;
  MessageBuilder(msg, Method::Allocate, MessageClass::Request, makeTxid(1))
      .addRequestedTransport(kProtocolTcp)
      .addString(attr::Software, "x")
      .addFingerprint();
  CHECK(streamFrameLength(msg) == msg.size());
}

TEST_CASE("stream frame length for ChannelData rounds up to 4") {
  CHECK(streamFrameLength(std::vector<uint8_t>{0x40, 0x00, 0x00, 0x00}) == 4u);
  CHECK(streamFrameLength(std::vector<uint8_t>{0x40, 0x00, 0x00, 0x01}) == 8u);
  CHECK(streamFrameLength(std::vector<uint8_t>{0x4F, 0xFF, 0x00, 0x04}) == 8u);
  CHECK(streamFrameLength(std::vector<uint8_t>{0x7F, 0xFF, 0x00, 0x05}) == 12u);
  CHECK(streamFrameLength(std::vector<uint8_t>{0x40, 0x00, 0xFF, 0xFF}) == 4u + 0x10000);
  std::vector<uint8_t> frame;
  encodeChannelData(frame, 0x4000, std::vector<uint8_t>(13, 1), true);
  CHECK(streamFrameLength(frame) == frame.size());
}

TEST_CASE("stream frame length refuses anything else") {
  CHECK_FALSE(streamFrameLength(std::vector<uint8_t>{}));
  CHECK_FALSE(streamFrameLength(std::vector<uint8_t>{0x00, 0x01, 0x00}));
  CHECK_FALSE(streamFrameLength(std::vector<uint8_t>{0x80, 0x00, 0x00, 0x04}));
  CHECK_FALSE(streamFrameLength(std::vector<uint8_t>{0xC0, 0x00, 0x00, 0x04}));
  CHECK_FALSE(streamFrameLength(
      std::vector<uint8_t>{0x16, 0x03, 0x01, 0x02}));  // TLS record header, length 0x0102 not /4
  CHECK_FALSE(streamFrameLength(std::vector<uint8_t>{0x00, 0x01, 0x00, 0x05}));  // STUN length not /4
}
