#include "relay/stun/channel_data.h"

#include <catch2/catch.hpp>
#include <vector>

using namespace tw::stun;

TEST_CASE("isChannelData looks at the first two bits") {
  CHECK(isChannelData(std::vector<uint8_t>{0x40}));
  CHECK(isChannelData(std::vector<uint8_t>{0x7F, 0xFF}));
  CHECK_FALSE(isChannelData(std::vector<uint8_t>{0x00, 0x01}));
  CHECK_FALSE(isChannelData(std::vector<uint8_t>{0x80}));
  CHECK_FALSE(isChannelData(std::vector<uint8_t>{0xC0}));
  CHECK_FALSE(isChannelData(std::vector<uint8_t>{}));
}

TEST_CASE("ChannelData encode/decode round trip with and without padding") {
  for (size_t len : {0u, 1u, 2u, 3u, 4u, 5u, 1200u}) {
    std::vector<uint8_t> payload(len);
    for (size_t i = 0; i < len; ++i) payload[i] = static_cast<uint8_t>(i * 7);
    for (bool pad : {false, true}) {
      std::vector<uint8_t> out(64, 0xEE);
      encodeChannelData(out, 0x4001, payload, pad);
      CHECK(out.size() == (pad ? 4 + ((len + 3) & ~size_t{3}) : 4 + len));
      CHECK(out[0] == 0x40);
      CHECK(out[1] == 0x01);
      CHECK(out[2] == static_cast<uint8_t>(len >> 8));
      CHECK(out[3] == static_cast<uint8_t>(len));
      for (size_t i = 4 + len; i < out.size(); ++i) CHECK(out[i] == 0);
      auto d = decodeChannelData(out);
      REQUIRE(d.ok());
      CHECK(d->channel == 0x4001);
      CHECK(std::vector<uint8_t>(d->payload.begin(), d->payload.end()) == payload);
      CHECK(d->payload.data() == out.data() + 4);
    }
  }
}

TEST_CASE("ChannelData decode errors") {
  CHECK(decodeChannelData(std::vector<uint8_t>{0x40, 0x00, 0x00}).error() == DecodeError::TooShort);
  CHECK(decodeChannelData(std::vector<uint8_t>{}).error() == DecodeError::TooShort);
  CHECK(decodeChannelData(std::vector<uint8_t>{0x00, 0x01, 0x00, 0x00}).error() == DecodeError::NotStun);
  CHECK(decodeChannelData(std::vector<uint8_t>{0x80, 0x01, 0x00, 0x00}).error() == DecodeError::NotStun);
  SECTION("length longer than the payload") {
    const std::vector<uint8_t> m = {0x40, 0x00, 0x00, 0x05, 1, 2, 3, 4};
    CHECK(decodeChannelData(m).error() == DecodeError::BadLength);
    const std::vector<uint8_t> huge = {0x40, 0x00, 0xFF, 0xFF, 1, 2, 3, 4};
    CHECK(decodeChannelData(huge).error() == DecodeError::BadLength);
  }
  SECTION("trailing bytes: padding allowed, more is not") {
    std::vector<uint8_t> m = {0x40, 0x00, 0x00, 0x01, 9, 0, 0, 0};
    CHECK(decodeChannelData(m).ok());
    CHECK(decodeChannelData(m)->payload.size() == 1);
    m.push_back(0);
    CHECK(decodeChannelData(m).error() == DecodeError::BadLength);
    const std::vector<uint8_t> aligned = {0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4, 0};
    CHECK(decodeChannelData(aligned).error() == DecodeError::BadLength);
  }
}

TEST_CASE("ChannelData with a 65535-byte payload") {
  const std::vector<uint8_t> payload(0xFFFF, 0x33);
  std::vector<uint8_t> out;
  encodeChannelData(out, 0x7FFF, payload, true);
  CHECK(out.size() == 4 + 0x10000);
  auto d = decodeChannelData(out);
  REQUIRE(d.ok());
  CHECK(d->payload.size() == 0xFFFF);
  CHECK(d->channel == 0x7FFF);
}
