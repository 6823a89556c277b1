#include "relay/stun/framing.h"

#include "relay/stun/byte_io.h"
#include "relay/stun/channel_data.h"
#include "relay/stun/constants.h"

namespace tw::stun {

std::optional<size_t> streamFrameLength(std::span<const uint8_t> first4) {
  if (first4.size() < 4) return std::nullopt;
  const size_t length = detail::readU16(first4.data() + 2);
  const uint8_t topBits = first4[0] & 0xC0;
  if (topBits == 0x00) {
    if (length % 4 != 0) return std::nullopt;
    return kHeaderSize + length;
  }
  if (topBits == 0x40) return kChannelDataHeaderSize + detail::padded4(length);
  return std::nullopt;
}

}  // namespace tw::stun
