#include "relay/stun/message_type.h"

#include <catch2/catch.hpp>

using namespace tw::stun;

TEST_CASE("message type interleaves method and class bits (RFC 8489 Figure 3)") {
  CHECK(messageType(Method::Binding, MessageClass::Request) == 0x0001);
  CHECK(messageType(Method::Binding, MessageClass::Indication) == 0x0011);
  CHECK(messageType(Method::Binding, MessageClass::SuccessResponse) == 0x0101);
  CHECK(messageType(Method::Binding, MessageClass::ErrorResponse) == 0x0111);
  CHECK(messageType(Method::Allocate, MessageClass::Request) == 0x0003);
  CHECK(messageType(Method::Allocate, MessageClass::ErrorResponse) == 0x0113);
  CHECK(messageType(Method::Send, MessageClass::Indication) == 0x0016);
  CHECK(messageType(Method::Data, MessageClass::Indication) == 0x0017);
  CHECK(messageType(Method::ConnectionAttempt, MessageClass::Indication) == 0x001C);
  for (uint16_t method = 0; method < 0x1000; ++method) {
    for (uint8_t c = 0; c < 4; ++c) {
      const auto cls = static_cast<MessageClass>(c);
      const uint16_t type = messageType(method, cls);
      CHECK((type & 0xC000) == 0);
      CHECK(methodOfType(type) == method);
      CHECK(classOfType(type) == cls);
    }
  }
}
