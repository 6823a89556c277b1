#pragma once
// A decoded STUN message: a non-owning view over the datagram plus a
// fixed-capacity index of its attributes. decode() validates framing once;
// the typed getters then parse one attribute on demand, so decoding does no
// heap allocation and a malformed attribute the handler never asks about
// costs nothing.
//
// Header (RFC 8489 §5, Figure 2):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |0 0|     STUN Message Type     |         Message Length        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                         Magic Cookie                          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                                                               |
//   |                     Transaction ID (96 bits)                  |
//   |                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Message Length counts the bytes after the header (always a multiple of 4).
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "relay/base/address.h"
#include "relay/base/result.h"
#include "relay/stun/attribute.h"
#include "relay/stun/constants.h"
#include "relay/stun/decode_error.h"

namespace tw::stun {

namespace detail {
class MessageParser;
}

/// ERROR-CODE (RFC 8489 §14.8): 21 reserved bits, Class (3..6, 3 bits),
/// Number (0..99, 8 bits), then a UTF-8 reason phrase.
struct ErrorCodeValue {
  int code;
  std::string_view reason;
};

/// EVEN-PORT (RFC 8656 §14.6): one byte, R bit = 0x80 asks the server to
/// reserve the next-higher port too.
struct EvenPortValue {
  bool reserve;
};

/// PASSWORD-ALGORITHM (RFC 8489 §14.12): Algorithm (16 bits), Parameters
/// Length (16 bits), Parameters (padded).
struct PasswordAlgorithmValue {
  uint16_t algorithm;
  std::span<const uint8_t> parameters;
};

/// The view refers to the bytes given to decode(): keep them alive and
/// unchanged while the Message is used.
class Message {
 public:
  /// An empty message (Binding request, zero transaction id, no attributes).
  Message() = default;

  /// Method number as a Method; values outside the enum are not named there.
  Method method() const { return static_cast<Method>(rawMethod()); }
  MessageClass messageClass() const;
  uint16_t rawMethod() const;
  const TransactionId& transactionId() const { return txid_; }
  /// The whole message, header included.
  std::span<const uint8_t> bytes() const { return bytes_; }

  /// Attributes in wire order. Attributes after MESSAGE-INTEGRITY other than
  /// MI-SHA256 and FINGERPRINT (and after MI-SHA256 other than FINGERPRINT)
  /// are NOT included: RFC 8489 §14.5/§14.6 say to ignore them, and acting
  /// on them lets an attacker append unauthenticated values to a signed
  /// request.
  std::span<const RawAttribute> attributes() const { return {attrs_.data(), count_}; }
  /// First occurrence or nullptr.
  const RawAttribute* find(uint16_t type) const;
  /// `a` must come from this message's attributes() (or find()).
  std::span<const uint8_t> value(const RawAttribute& a) const { return bytes_.subspan(a.offset, a.length); }
  /// Value of the first attribute of `type`, nullopt if absent.
  std::optional<std::span<const uint8_t>> valueOf(uint16_t type) const;

  // Typed getters: nullopt when absent OR malformed (wrong length/family).
  /// At most kMaxUsernameBytes; longer is treated as malformed (auth -> 401).
  std::optional<std::string_view> username() const;
  /// REALM, NONCE, SOFTWARE: at most kMaxTextBytes.
  std::optional<std::string_view> realm() const;
  std::optional<std::string_view> nonce() const;
  std::optional<std::string_view> software() const;
  /// 4 bytes.
  std::optional<uint32_t> lifetime() const;
  /// Protocol number (17 UDP, 6 TCP) from the first of 4 bytes.
  std::optional<uint8_t> requestedTransport() const;
  /// Channel number from the first 2 of 4 bytes; the range is not checked here.
  std::optional<uint16_t> channelNumber() const;
  /// DATA value, any length (including empty).
  std::optional<std::span<const uint8_t>> data() const;
  /// 1 byte.
  std::optional<EvenPortValue> evenPort() const;
  /// 8 bytes big-endian.
  std::optional<uint64_t> reservationToken() const;
  /// Family byte of a 4-byte value, returned as sent (0x01 IPv4, 0x02 IPv6,
  /// anything else) so the TURN layer can answer 440 for unknown families.
  std::optional<uint8_t> requestedAddressFamily() const;
  std::optional<uint8_t> additionalAddressFamily() const;
  /// 4 bytes (RFC 6062).
  std::optional<uint32_t> connectionId() const;
  /// Class 3..6, number 0..99, reason at most kMaxTextBytes.
  std::optional<ErrorCodeValue> errorCode() const;
  /// Presence only (the value is empty by definition).
  bool dontFragment() const { return find(attr::DontFragment) != nullptr; }
  /// USERHASH: 32 bytes.
  std::optional<std::span<const uint8_t>> userhash() const;
  /// PASSWORD-ALGORITHM with its parameters (length must fit the value).
  std::optional<PasswordAlgorithmValue> passwordAlgorithm() const;

  /// Decodes an XOR-* address attribute of this message (the IPv6 XOR uses
  /// this message's transaction id). `a` must come from this message.
  std::optional<SocketAddress> xorAddress(const RawAttribute& a) const;
  /// Decodes a plain address attribute (MAPPED-ADDRESS, ALTERNATE-SERVER...).
  std::optional<SocketAddress> address(const RawAttribute& a) const;
  std::optional<SocketAddress> xorMappedAddress() const;
  /// First XOR-RELAYED-ADDRESS (a dual-stack response carries two).
  std::optional<SocketAddress> xorRelayedAddress() const;
  std::optional<SocketAddress> mappedAddress() const;
  std::optional<SocketAddress> alternateServer() const;
  /// Collects up to out.size() XOR-PEER-ADDRESS values in order; returns
  /// how many there are in total (may exceed out.size()). `malformed` is
  /// reset, then set to true if any of them is malformed (that slot of
  /// `out` then holds a default SocketAddress).
  size_t xorPeerAddresses(std::span<SocketAddress> out, bool& malformed) const;

  /// Unknown comprehension-required types (< 0x8000), each once, in order:
  /// the request gets 420 with these in UNKNOWN-ATTRIBUTES.
  std::span<const uint16_t> unknownComprehensionRequired() const { return {unknown_.data(), unknownCount_}; }

  bool hasMessageIntegrity() const { return find(attr::MessageIntegrity) != nullptr; }
  bool hasMessageIntegritySha256() const { return find(attr::MessageIntegritySha256) != nullptr; }
  /// A FINGERPRINT that decode() kept has been verified.
  bool hasFingerprint() const { return find(attr::Fingerprint) != nullptr; }

 private:
  friend class detail::MessageParser;

  std::optional<std::string_view> text(uint16_t type, size_t maxBytes) const;
  std::optional<std::span<const uint8_t>> fixed(uint16_t type, size_t size) const;
  std::optional<SocketAddress> xorAddressOf(uint16_t type) const;
  std::optional<SocketAddress> addressOf(uint16_t type) const;

  std::span<const uint8_t> bytes_;
  TransactionId txid_{};
  uint16_t type_ = 0x0001;  // Binding request
  uint8_t count_ = 0;
  uint8_t unknownCount_ = 0;
  std::array<RawAttribute, kMaxAttributes> attrs_{};
  std::array<uint16_t, kMaxAttributes> unknown_{};
};

/// Validates header framing and every attribute TLV, checks FINGERPRINT,
/// and indexes the attributes. Rejects (each its own DecodeError): fewer
/// than 20 bytes; first two bits not 00; wrong magic cookie; length not a
/// multiple of 4, not matching the datagram, or over kMaxMessageSize; a TLV
/// running past the end; FINGERPRINT not last or with a wrong CRC; more than
/// kMaxAttributes attributes; MI not 20 bytes, MI-SHA256 not 16..32 and a
/// multiple of 4, FINGERPRINT not 4 bytes. MESSAGE-INTEGRITY is NOT checked
/// here (it needs a key): see verifyMessageIntegrity().
Result<Message, DecodeError> decode(std::span<const uint8_t> datagram);

}  // namespace tw::stun
