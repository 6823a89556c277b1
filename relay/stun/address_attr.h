#pragma once
// Address attribute values: MAPPED-ADDRESS style (RFC 8489 §14.1) and the
// XOR-* variants (§14.2: XOR-MAPPED-ADDRESS; RFC 8656: XOR-PEER-ADDRESS,
// XOR-RELAYED-ADDRESS).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |0 0 0 0 0 0 0 0|    Family     |     Port (or X-Port)          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                                                               |
//   |     Address (or X-Address): 32 bits (0x01) or 128 bits (0x02) |
//   |                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// X-Port = Port XOR (magic cookie >> 16). X-Address = Address XOR magic
// cookie (IPv4) or XOR (magic cookie || transaction id) (IPv6). The XOR
// stops NATs that rewrite addresses found in payloads from corrupting them.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "relay/base/address.h"
#include "relay/stun/constants.h"

namespace tw::stun {

/// Value size: 8 for IPv4, 20 for IPv6.
size_t addressValueSize(const SocketAddress& a);

/// nullopt unless family is 0x01 with 8 bytes or 0x02 with 20 bytes.
std::optional<SocketAddress> decodeAddress(std::span<const uint8_t> value);
std::optional<SocketAddress> decodeXorAddress(std::span<const uint8_t> value, const TransactionId& txid);

/// Writes exactly addressValueSize(a) bytes to `value`.
void encodeAddress(std::span<uint8_t> value, const SocketAddress& a);
void encodeXorAddress(std::span<uint8_t> value, const SocketAddress& a, const TransactionId& txid);

}  // namespace tw::stun
