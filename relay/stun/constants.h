#pragma once
// Numbers from the STUN/TURN registries: methods, classes, attribute types,
// error codes. Sources: RFC 8489 (STUN), RFC 8656 (TURN), RFC 6062 (TCP
// relay), RFC 6156 / RFC 8656 (address families), RFC 8445 (ICE), RFC 5780
// (NAT behaviour discovery), RFC 7635 / RFC 8016 / RFC 7982 (extensions).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tw::stun {

/// Fixed value in every RFC 5389+ header; lets STUN be told apart from other
/// protocols multiplexed on one port (RTP, DTLS, ChannelData).
constexpr uint32_t kMagicCookie = 0x2112A442;
constexpr size_t kHeaderSize = 20;
/// Capacity of a decoded message's attribute index. A message with more
/// attributes (counting ignored ones) is rejected: TooManyAttributes.
constexpr size_t kMaxAttributes = 48;
/// Largest message decode() accepts and MessageBuilder produces. Larger
/// STUN messages cannot travel in one UDP datagram anyway (IPv6 UDP payload
/// tops out at 65527), and it keeps every attribute offset within 16 bits.
constexpr size_t kMaxMessageSize = 0xFFFF;

/// RFC 5389 §15.3: USERNAME "MUST contain ... fewer than 513 bytes" (RFC 8489
/// tightened it to 509; we accept the older limit for interop).
constexpr size_t kMaxUsernameBytes = 512;
/// REALM, NONCE, SOFTWARE and the ERROR-CODE reason: "fewer than 128
/// characters (which can be as long as 763 bytes)" (RFC 8489 §14).
constexpr size_t kMaxTextBytes = 763;

using TransactionId = std::array<uint8_t, 12>;

enum class Method : uint16_t {
  Binding = 0x001,   // RFC 8489
  Allocate = 0x003,  // RFC 8656
  Refresh = 0x004,
  Send = 0x006,
  Data = 0x007,
  CreatePermission = 0x008,
  ChannelBind = 0x009,
  Connect = 0x00A,  // RFC 6062
  ConnectionBind = 0x00B,
  ConnectionAttempt = 0x00C,
};

enum class MessageClass : uint8_t { Request = 0, Indication = 1, SuccessResponse = 2, ErrorResponse = 3 };

/// Names for logs and metrics labels; "Unknown" for any other method number.
std::string_view toString(Method m);
std::string_view toString(MessageClass c);

namespace attr {
// Comprehension-required range 0x0000-0x7FFF: an unknown one gets a 420.
// Comprehension-optional range 0x8000-0xFFFF: unknown ones are skipped.
enum : uint16_t {
  MappedAddress = 0x0001,
  Username = 0x0006,
  MessageIntegrity = 0x0008,
  ErrorCode = 0x0009,
  UnknownAttributes = 0x000A,
  ChannelNumber = 0x000C,  // RFC 8656
  Lifetime = 0x000D,
  XorPeerAddress = 0x0012,
  Data = 0x0013,
  Realm = 0x0014,
  Nonce = 0x0015,
  XorRelayedAddress = 0x0016,
  RequestedAddressFamily = 0x0017,
  EvenPort = 0x0018,
  RequestedTransport = 0x0019,
  DontFragment = 0x001A,
  MessageIntegritySha256 = 0x001C,  // RFC 8489
  PasswordAlgorithm = 0x001D,
  Userhash = 0x001E,
  XorMappedAddress = 0x0020,
  ReservationToken = 0x0022,  // RFC 8656
  Priority = 0x0024,          // RFC 8445
  UseCandidate = 0x0025,
  Padding = 0x0026,  // RFC 5780
  ResponsePort = 0x0027,
  ConnectionId = 0x002A,             // RFC 6062
  AdditionalAddressFamily = 0x8000,  // RFC 8656
  AddressErrorCode = 0x8001,
  PasswordAlgorithms = 0x8002,  // RFC 8489
  AlternateDomain = 0x8003,
  Icmp = 0x8004,  // RFC 8656
  Software = 0x8022,
  AlternateServer = 0x8023,
  TransactionTransmitCounter = 0x8025,  // RFC 7982
  CacheTimeout = 0x8027,                // RFC 5780
  Fingerprint = 0x8028,
  IceControlled = 0x8029,  // RFC 8445
  IceControlling = 0x802A,
  ResponseOrigin = 0x802B,  // RFC 5780
  OtherAddress = 0x802C,
};
}  // namespace attr

/// True for every type in attr::. Unknown comprehension-required types in a
/// request are answered with 420 + UNKNOWN-ATTRIBUTES.
bool isKnownAttribute(uint16_t type);

/// ERROR-CODE numbers used by STUN and TURN.
namespace code {
enum : int {
  TryAlternate = 300,
  BadRequest = 400,
  Unauthorized = 401,
  Forbidden = 403,
  UnknownAttribute = 420,
  AllocationMismatch = 437,
  StaleNonce = 438,
  AddressFamilyNotSupported = 440,
  WrongCredentials = 441,
  UnsupportedTransportProtocol = 442,
  PeerAddressFamilyMismatch = 443,
  ConnectionAlreadyExists = 446,
  ConnectionTimeoutOrFailure = 447,
  AllocationQuotaReached = 486,
  ServerError = 500,
  InsufficientCapacity = 508,
};
}  // namespace code

/// The RFC's reason phrase for a code above; empty for any other code.
std::string_view reasonPhrase(int code);

/// REQUESTED-TRANSPORT protocol numbers (IANA protocol numbers).
constexpr uint8_t kProtocolTcp = 6;
constexpr uint8_t kProtocolUdp = 17;

/// Address family bytes of address attributes and REQUESTED-ADDRESS-FAMILY.
constexpr uint8_t kFamilyIPv4 = 0x01;
constexpr uint8_t kFamilyIPv6 = 0x02;

/// Channel numbers: RFC 8656 allows 0x4000-0x4FFF; RFC 5766 allowed up to
/// 0x7FFF and deployed clients still use that range. The TURN layer picks.
constexpr uint16_t kChannelMin = 0x4000;
constexpr uint16_t kChannelMaxRfc8656 = 0x4FFF;
constexpr uint16_t kChannelMaxRfc5766 = 0x7FFF;

}  // namespace tw::stun
