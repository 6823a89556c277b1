#pragma once
// The PROXY protocol header (HAProxy's public spec, versions 1 and 2) that an
// L4 load balancer sends before the client's first byte, so the relay learns
// the client's address. Pure: no sockets, no allocation. relay/io reads the
// header of a connection from a trusted proxy with this parser, before the
// STUN framing (TCP) or the TLS ClientHello (TLS).
//
//   v1: "PROXY TCP4 <src> <dst> <sport> <dport>\r\n" (or TCP6, or UNKNOWN...),
//       at most 107 bytes with the CRLF
//   v2: 12-byte signature, version/command, family/protocol, 16-bit length,
//       the address block for the family, then TLVs (skipped, but their
//       framing must hold)
//
// A parse of a prefix says NeedMore only while every byte seen can still be
// part of one header, so a reader may consume all bytes it has shown the
// parser: none of them belongs to the stream after the header.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "relay/base/address.h"

namespace tw::stun {

/// Largest v2 header accepted (16 fixed bytes + addresses + TLVs). The spec
/// allows 65,535 + 16; HAProxy's own TLVs (ALPN, authority, SSL details,
/// unique id) fit in far less, and a cap keeps a pending connection small.
inline constexpr size_t kMaxProxyHeaderBytes = 16 + 2048;
/// Longest v1 line, CRLF included (the spec's worst case, TCP6 with ports).
inline constexpr size_t kMaxProxyV1Bytes = 107;

enum class ProxyStatus : uint8_t {
  Complete,  ///< A whole, valid header: `length` bytes.
  NeedMore,  ///< A valid prefix: every byte given belongs to the header.
  Invalid,   ///< Not a PROXY header, or a malformed one: `error` says why.
};

struct ProxyHeader {
  ProxyStatus status = ProxyStatus::NeedMore;
  uint8_t version = 0;  ///< 1 or 2 once known.
  size_t length = 0;    ///< Complete: bytes the header occupies.
  /// The client's address and the address it connected to, for a PROXY
  /// command over TCP of IPv4 or IPv6. Empty for v2 LOCAL (the proxy's own
  /// health check), v1 UNKNOWN, and v2 families or protocols other than
  /// TCP over IPv4/IPv6: the connection's own endpoints apply then (spec).
  std::optional<SocketAddress> source;
  std::optional<SocketAddress> destination;
  std::string_view error;  ///< Invalid: a fixed text for logs.
};

/// Parses the header at the start of `bytes` (more bytes may follow it).
ProxyHeader parseProxyHeader(std::span<const uint8_t> bytes);

/// True when `bytes` begin with a whole v1 ("PROXY ") or v2 signature: what
/// a client that is not a trusted proxy is refused for. A shorter prefix is
/// not reported (the STUN framer or the TLS handshake refuses it anyway).
bool startsWithProxySignature(std::span<const uint8_t> bytes);

}  // namespace tw::stun
