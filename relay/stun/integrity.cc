#include "relay/stun/integrity.h"

#include <algorithm>
#include <initializer_list>
#include <string>

#include "relay/base/crypto.h"
#include "relay/base/mac_engine.h"
#include "relay/stun/byte_io.h"

namespace tw::stun {

namespace {

/// The header with its length field pointing at the end of `a`.
std::array<uint8_t, kHeaderSize> adjustedHeader(const Message& m, const RawAttribute& a) {
  std::array<uint8_t, kHeaderSize> h{};
  std::copy_n(m.bytes().begin(), kHeaderSize, h.begin());
  detail::storeU16(h.data() + 2, static_cast<uint16_t>(a.offset + a.length - kHeaderSize));
  return h;
}

/// Message bytes between the header and the integrity attribute's header.
Bytes coveredBody(const Message& m, const RawAttribute& a) {
  const size_t end = a.offset - kAttributeHeaderSize;
  return m.bytes().subspan(kHeaderSize, end - kHeaderSize);
}

/// "a:b" or "a:b:c", the inputs of the key and USERHASH digests.
std::string joined(std::initializer_list<std::string_view> parts) {
  std::string s;
  bool first = true;
  for (std::string_view p : parts) {
    if (!first) s.push_back(':');
    s.append(p);
    first = false;
  }
  return s;
}

}  // namespace

bool verifyMessageIntegrity(const Message& m, std::span<const uint8_t> key, MacEngine& engine) {
  const RawAttribute* a = m.find(attr::MessageIntegrity);
  if (a == nullptr || key.empty() || a->length != kMessageIntegritySize) return false;
  const auto header = adjustedHeader(m, *a);
  const auto mac = engine.hmacSha1(key, {Bytes(header), coveredBody(m, *a)});
  return mac && constantTimeEqual(Bytes(*mac), m.value(*a));
}

bool verifyMessageIntegritySha256(const Message& m, std::span<const uint8_t> key, MacEngine& engine) {
  const RawAttribute* a = m.find(attr::MessageIntegritySha256);
  if (a == nullptr || key.empty() || a->length == 0 || a->length > kMessageIntegritySha256Size) return false;
  const auto header = adjustedHeader(m, *a);
  const auto mac = engine.hmacSha256(key, {Bytes(header), coveredBody(m, *a)});
  return mac && constantTimeEqual(Bytes(*mac).first(a->length), m.value(*a));
}

bool verifyMessageIntegrity(const Message& m, std::span<const uint8_t> key) {
  MacEngine engine;
  return verifyMessageIntegrity(m, key, engine);
}

bool verifyMessageIntegritySha256(const Message& m, std::span<const uint8_t> key) {
  MacEngine engine;
  return verifyMessageIntegritySha256(m, key, engine);
}

std::array<uint8_t, 16> longTermKey(std::string_view username, std::string_view realm,
                                    std::string_view password) {
  return longTermKeyMd5(username, realm, password);
}

std::array<uint8_t, 32> longTermKeySha256(std::string_view username, std::string_view realm,
                                          std::string_view password) {
  return sha256(asBytes(joined({username, realm, password})));
}

std::array<uint8_t, 32> userhashOf(std::string_view username, std::string_view realm) {
  return sha256(asBytes(joined({username, realm})));
}

}  // namespace tw::stun
