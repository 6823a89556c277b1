#include "relay/stun/constants.h"

namespace tw::stun {

std::string_view toString(Method m) {
  switch (m) {
    case Method::Binding:
      return "Binding";
    case Method::Allocate:
      return "Allocate";
    case Method::Refresh:
      return "Refresh";
    case Method::Send:
      return "Send";
    case Method::Data:
      return "Data";
    case Method::CreatePermission:
      return "CreatePermission";
    case Method::ChannelBind:
      return "ChannelBind";
    case Method::Connect:
      return "Connect";
    case Method::ConnectionBind:
      return "ConnectionBind";
    case Method::ConnectionAttempt:
      return "ConnectionAttempt";
  }
  return "Unknown";
}

std::string_view toString(MessageClass c) {
  switch (c) {
    case MessageClass::Request:
      return "Request";
    case MessageClass::Indication:
      return "Indication";
    case MessageClass::SuccessResponse:
      return "SuccessResponse";
    case MessageClass::ErrorResponse:
      return "ErrorResponse";
  }
  return "Unknown";
}

bool isKnownAttribute(uint16_t type) {
  switch (type) {
    case attr::MappedAddress:
    case attr::Username:
    case attr::MessageIntegrity:
    case attr::ErrorCode:
    case attr::UnknownAttributes:
    case attr::ChannelNumber:
    case attr::Lifetime:
    case attr::XorPeerAddress:
    case attr::Data:
    case attr::Realm:
    case attr::Nonce:
    case attr::XorRelayedAddress:
    case attr::RequestedAddressFamily:
    case attr::EvenPort:
    case attr::RequestedTransport:
    case attr::DontFragment:
    case attr::MessageIntegritySha256:
    case attr::PasswordAlgorithm:
    case attr::Userhash:
    case attr::XorMappedAddress:
    case attr::ReservationToken:
    case attr::Priority:
    case attr::UseCandidate:
    case attr::Padding:
    case attr::ResponsePort:
    case attr::ConnectionId:
    case attr::AdditionalAddressFamily:
    case attr::AddressErrorCode:
    case attr::PasswordAlgorithms:
    case attr::AlternateDomain:
    case attr::Icmp:
    case attr::Software:
    case attr::AlternateServer:
    case attr::TransactionTransmitCounter:
    case attr::CacheTimeout:
    case attr::Fingerprint:
    case attr::IceControlled:
    case attr::IceControlling:
    case attr::ResponseOrigin:
    case attr::OtherAddress:
      return true;
    default:
      return false;
  }
}

std::string_view reasonPhrase(int c) {
  switch (c) {
    case code::TryAlternate:
      return "Try Alternate";
    case code::BadRequest:
      return "Bad Request";
    case code::Unauthorized:
      return "Unauthorized";
    case code::Forbidden:
      return "Forbidden";
    case code::UnknownAttribute:
      return "Unknown Attribute";
    case code::AllocationMismatch:
      return "Allocation Mismatch";
    case code::StaleNonce:
      return "Stale Nonce";
    case code::AddressFamilyNotSupported:
      return "Address Family not Supported";
    case code::WrongCredentials:
      return "Wrong Credentials";
    case code::UnsupportedTransportProtocol:
      return "Unsupported Transport Protocol";
    case code::PeerAddressFamilyMismatch:
      return "Peer Address Family Mismatch";
    case code::ConnectionAlreadyExists:
      return "Connection Already Exists";
    case code::ConnectionTimeoutOrFailure:
      return "Connection Timeout or Failure";
    case code::AllocationQuotaReached:
      return "Allocation Quota Reached";
    case code::ServerError:
      return "Server Error";
    case code::InsufficientCapacity:
      return "Insufficient Capacity";
    default:
      return {};
  }
}

}  // namespace tw::stun
