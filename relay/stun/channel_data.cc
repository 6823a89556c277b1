#include "relay/stun/channel_data.h"

#include "relay/stun/byte_io.h"

namespace tw::stun {

bool isChannelData(std::span<const uint8_t> bytes) { return !bytes.empty() && (bytes[0] & 0xC0) == 0x40; }

Result<ChannelData, DecodeError> decodeChannelData(std::span<const uint8_t> bytes) {
  if (bytes.size() < kChannelDataHeaderSize) return err(DecodeError::TooShort);
  if (!isChannelData(bytes)) return err(DecodeError::NotStun);
  const uint16_t channel = detail::readU16(bytes.data());
  const size_t length = detail::readU16(bytes.data() + 2);
  const size_t available = bytes.size() - kChannelDataHeaderSize;
  if (length > available || available > detail::padded4(length)) return err(DecodeError::BadLength);
  return ChannelData{channel, bytes.subspan(kChannelDataHeaderSize, length)};
}

void encodeChannelData(std::vector<uint8_t>& out, uint16_t channel, std::span<const uint8_t> payload,
                       bool padTo4) {
  if (payload.size() > 0xFFFF) payload = payload.first(0xFFFF);
  out.clear();
  detail::appendU16(out, channel);
  detail::appendU16(out, static_cast<uint16_t>(payload.size()));
  out.insert(out.end(), payload.begin(), payload.end());
  if (padTo4) out.resize(kChannelDataHeaderSize + detail::padded4(payload.size()), 0);
}

}  // namespace tw::stun
