#pragma once
// MessageBuilder writes a STUN message into a caller-owned vector that the
// caller reuses between messages (no allocation once it has grown). Every
// attribute is written as a TLV with its value padded to 4 bytes; padding
// bytes are always zero (coturn CVE-2020-4067 leaked heap memory through
// them). The header length is kept current after every attribute, which is
// what MESSAGE-INTEGRITY and FINGERPRINT are computed over.
//
//   header (20) | TLV | TLV | ... | [MESSAGE-INTEGRITY] | [MI-SHA256] | [FINGERPRINT]
//
// Misuse never writes out of bounds: an attribute that would make the
// message exceed kMaxMessageSize, an attribute added after FINGERPRINT, a
// non-integrity attribute after MESSAGE-INTEGRITY (receivers ignore those),
// an ERROR-CODE outside 300..699, or an integrity attribute with an empty key
// is skipped and ok() turns false; later additions are skipped too.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "relay/base/address.h"
#include "relay/base/crypto.h"
#include "relay/stun/constants.h"

namespace tw::stun {

class MessageBuilder {
 public:
  /// Clears `out` and writes the header.
  MessageBuilder(std::vector<uint8_t>& out, Method method, MessageClass cls, const TransactionId& txid);
  /// For method numbers outside Method (tests, extensions).
  MessageBuilder(std::vector<uint8_t>& out, uint16_t rawMethod, MessageClass cls, const TransactionId& txid);

  /// XOR-MAPPED-ADDRESS / XOR-PEER-ADDRESS / XOR-RELAYED-ADDRESS.
  MessageBuilder& addXorAddress(uint16_t type, const SocketAddress& a);
  /// Plain MAPPED-ADDRESS style (MAPPED-ADDRESS, ALTERNATE-SERVER, ...).
  MessageBuilder& addAddress(uint16_t type, const SocketAddress& a);
  MessageBuilder& addU32(uint16_t type, uint32_t v);
  MessageBuilder& addU64(uint16_t type, uint64_t v);
  MessageBuilder& addString(uint16_t type, std::string_view s);
  MessageBuilder& addBytes(uint16_t type, std::span<const uint8_t> v);
  /// An attribute with an empty value (DONT-FRAGMENT, USE-CANDIDATE).
  MessageBuilder& addEmpty(uint16_t type);
  /// Empty reason -> reasonPhrase(code). code must be 300..699.
  MessageBuilder& addErrorCode(int code, std::string_view reason = {});
  /// ERROR-CODE with an empty reason phrase (RFC 8489 §14.8 makes the phrase
  /// diagnostic only): 12 bytes fewer in answers to unauthenticated sources,
  /// which keeps the amplification of a 401 low.
  MessageBuilder& addBareErrorCode(int code);
  MessageBuilder& addUnknownAttributes(std::span<const uint16_t> types);
  /// REQUESTED-TRANSPORT: protocol + 3 RFFU bytes.
  MessageBuilder& addRequestedTransport(uint8_t protocol);
  /// REQUESTED-ADDRESS-FAMILY / ADDITIONAL-ADDRESS-FAMILY: family + 3 RFFU bytes.
  MessageBuilder& addAddressFamily(uint16_t type, uint8_t family);
  /// EVEN-PORT: one byte, R bit 0x80.
  MessageBuilder& addEvenPort(bool reserve);
  /// CHANNEL-NUMBER: number + 2 RFFU bytes.
  MessageBuilder& addChannelNumber(uint16_t channel);
  MessageBuilder& addMessageIntegrity(std::span<const uint8_t> key);
  /// With the caller's engine (the server's answers: no algorithm lookup).
  MessageBuilder& addMessageIntegrity(std::span<const uint8_t> key, MacEngine& engine);
  /// Full 32-byte HMAC-SHA256.
  MessageBuilder& addMessageIntegritySha256(std::span<const uint8_t> key);
  /// Truncated to `length` bytes (16..32, multiple of 4; else ok() = false).
  MessageBuilder& addMessageIntegritySha256(std::span<const uint8_t> key, size_t length);
  MessageBuilder& addFingerprint();

  std::span<const uint8_t> bytes() const { return out_; }
  /// false if anything was skipped (see the header comment).
  bool ok() const { return ok_; }

 private:
  enum class Stage { Body, AfterMi, AfterMiSha256, Sealed };
  MessageBuilder& errorCode(int code, std::string_view reason);

  /// Appends a header and zeroed, padded room for `length` value bytes;
  /// returns where the value goes, or nullptr (and ok_ = false) if refused.
  uint8_t* beginAttribute(uint16_t type, size_t length);
  bool allowedNow(uint16_t type) const;
  void advanceStage(uint16_t type);

  std::vector<uint8_t>& out_;
  TransactionId txid_;
  Stage stage_ = Stage::Body;
  bool ok_ = true;
};

}  // namespace tw::stun
