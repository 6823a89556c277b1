#include "relay/base/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "relay/base/mac_engine.h"

namespace tw {

// One-shot callers get a temporary engine: one implementation of each MAC.
std::array<uint8_t, 20> hmacSha1(Bytes key, Bytes data) {
  return MacEngine().hmacSha1(key, {data}).value_or(std::array<uint8_t, 20>{});
}
std::array<uint8_t, 32> hmacSha256(Bytes key, Bytes data) {
  return MacEngine().hmacSha256(key, {data}).value_or(std::array<uint8_t, 32>{});
}
std::array<uint8_t, 16> md5(Bytes data) { return MacEngine().md5({data}); }
std::array<uint8_t, 32> sha256(Bytes data) { return MacEngine().sha256({data}); }

std::array<uint8_t, 16> longTermKeyMd5(std::string_view username, std::string_view realm,
                                       std::string_view password) {
  MacEngine engine;
  return longTermKeyMd5(engine, username, realm, password);
}

std::array<uint8_t, 16> longTermKeyMd5(MacEngine& engine, std::string_view username, std::string_view realm,
                                       std::string_view password) {
  const Bytes colon = asBytes(":");
  return engine.md5({asBytes(username), colon, asBytes(realm), colon, asBytes(password)});
}

uint32_t crc32(Bytes data) {
  // zlib's CRC-32 is the ISO 3309 one STUN uses, computed several bytes at
  // a time (our byte-at-a-time table was 2% of the server's CPU per
  // allocation: every message in and out carries a FINGERPRINT).
  uLong c = ::crc32_z(0L, nullptr, 0);
  if (!data.empty()) c = ::crc32_z(c, data.data(), data.size());
  return static_cast<uint32_t>(c);
}

bool constantTimeEqual(Bytes a, Bytes b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64Encode(Bytes data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                                static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::vector<uint8_t>> base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::vector<uint8_t> out(3 * text.size() / 4);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes; trim them.
  if (!text.empty() && text.back() == '=') --len;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::string hexEncode(Bytes data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
  return out;
}

std::optional<std::vector<uint8_t>> hexDecode(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<uint8_t> out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return out;
}

}  // namespace tw
