#include "relay/stun/constants.h"

#include <catch2/catch.hpp>
#include <set>

using namespace tw::stun;

TEST_CASE("method names") {
  CHECK(toString(Method::Binding) == "Binding");
  CHECK(toString(Method::Allocate) == "Allocate");
  CHECK(toString(Method::Refresh) == "Refresh");
  CHECK(toString(Method::Send) == "Send");
  CHECK(toString(Method::Data) == "Data");
  CHECK(toString(Method::CreatePermission) == "CreatePermission");
  CHECK(toString(Method::ChannelBind) == "ChannelBind");
  CHECK(toString(Method::Connect) == "Connect");
  CHECK(toString(Method::ConnectionBind) == "ConnectionBind");
  CHECK(toString(Method::ConnectionAttempt) == "ConnectionAttempt");
  CHECK(toString(static_cast<Method>(0x005)) == "Unknown");
  CHECK(toString(static_cast<Method>(0xFFF)) == "Unknown");
}

TEST_CASE("message class names") {
  CHECK(toString(MessageClass::Request) == "Request");
  CHECK(toString(MessageClass::Indication) == "Indication");
  CHECK(toString(MessageClass::SuccessResponse) == "SuccessResponse");
  CHECK(toString(MessageClass::ErrorResponse) == "ErrorResponse");
}

TEST_CASE("every registered attribute type is known and no other type is") {
  const uint16_t known[] = {attr::MappedAddress,
                            attr::Username,
                            attr::MessageIntegrity,
                            attr::ErrorCode,
                            attr::UnknownAttributes,
                            attr::ChannelNumber,
                            attr::Lifetime,
                            attr::XorPeerAddress,
                            attr::Data,
                            attr::Realm,
                            attr::Nonce,
                            attr::XorRelayedAddress,
                            attr::RequestedAddressFamily,
                            attr::EvenPort,
                            attr::RequestedTransport,
                            attr::DontFragment,
                            attr::MessageIntegritySha256,
                            attr::PasswordAlgorithm,
                            attr::Userhash,
                            attr::XorMappedAddress,
                            attr::ReservationToken,
                            attr::Priority,
                            attr::UseCandidate,
                            attr::Padding,
                            attr::ResponsePort,
                            attr::ConnectionId,
                            attr::AdditionalAddressFamily,
                            attr::AddressErrorCode,
                            attr::PasswordAlgorithms,
                            attr::AlternateDomain,
                            attr::Icmp,
                            attr::Software,
                            attr::AlternateServer,
                            attr::TransactionTransmitCounter,
                            attr::CacheTimeout,
                            attr::Fingerprint,
                            attr::IceControlled,
                            attr::IceControlling,
                            attr::ResponseOrigin,
                            attr::OtherAddress};
  const std::set<uint16_t> set(std::begin(known), std::end(known));
  CHECK(set.size() == 40);
  for (uint16_t t : known) CHECK(isKnownAttribute(t));
  size_t knownCount = 0;
  for (uint32_t t = 0; t <= 0xFFFF; ++t) {
    const bool k = isKnownAttribute(static_cast<uint16_t>(t));
    CHECK(k == (set.count(static_cast<uint16_t>(t)) == 1));
    knownCount += k;
  }
  CHECK(knownCount == set.size());
  CHECK_FALSE(isKnownAttribute(0x0003));  // CHANGE-REQUEST: not supported -> 420
}

TEST_CASE("reason phrases for every code the relay sends") {
  CHECK(reasonPhrase(300) == "Try Alternate");
  CHECK(reasonPhrase(400) == "Bad Request");
  CHECK(reasonPhrase(401) == "Unauthorized");
  CHECK(reasonPhrase(403) == "Forbidden");
  CHECK(reasonPhrase(420) == "Unknown Attribute");
  CHECK(reasonPhrase(437) == "Allocation Mismatch");
  CHECK(reasonPhrase(438) == "Stale Nonce");
  CHECK(reasonPhrase(440) == "Address Family not Supported");
  CHECK(reasonPhrase(441) == "Wrong Credentials");
  CHECK(reasonPhrase(442) == "Unsupported Transport Protocol");
  CHECK(reasonPhrase(443) == "Peer Address Family Mismatch");
  CHECK(reasonPhrase(446) == "Connection Already Exists");
  CHECK(reasonPhrase(447) == "Connection Timeout or Failure");
  CHECK(reasonPhrase(486) == "Allocation Quota Reached");
  CHECK(reasonPhrase(500) == "Server Error");
  CHECK(reasonPhrase(508) == "Insufficient Capacity");
  CHECK(reasonPhrase(499).empty());
  CHECK(reasonPhrase(0).empty());
}
