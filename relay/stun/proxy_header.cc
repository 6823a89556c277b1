#include "relay/stun/proxy_header.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace tw::stun {
namespace {

constexpr std::array<uint8_t, 12> kV2Signature{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                               0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::string_view kV1Prefix = "PROXY ";
constexpr size_t kV2Fixed = 16;

ProxyHeader invalid(std::string_view why) {
  ProxyHeader h;
  h.status = ProxyStatus::Invalid;
  h.error = why;
  return h;
}

/// Whether the first min(n, sig) bytes of `bytes` match `sig`.
bool prefixMatches(std::span<const uint8_t> bytes, std::span<const uint8_t> sig) {
  const size_t n = std::min(bytes.size(), sig.size());
  return std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n), sig.begin());
}

std::span<const uint8_t> v1PrefixBytes() {
  return {reinterpret_cast<const uint8_t*>(kV1Prefix.data()), kV1Prefix.size()};
}

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// ------------------------------------------------------------------ v1

/// A decimal port, 0..65535, without sign or leading zeros.
std::optional<uint16_t> v1Port(std::string_view s) {
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  return parsePort(s);
}

/// Splits at single spaces; false when there are more than `max` fields or
/// an empty one (two spaces in a row, a trailing space).
template <size_t N>
bool splitFields(std::string_view line, std::array<std::string_view, N>& out, size_t& count) {
  count = 0;
  while (true) {
    const size_t sp = line.find(' ');
    const std::string_view field = line.substr(0, sp);
    if (field.empty() || count == N) return false;
    out[count++] = field;
    if (sp == std::string_view::npos) return true;
    line.remove_prefix(sp + 1);
  }
}

std::optional<IpAddress> v1Address(std::string_view text, Family family) {
  auto ip = IpAddress::parse(text);
  if (!ip || ip->family() != family) return std::nullopt;
  return ip;
}

/// `line`: the text between "PROXY " and the CRLF.
ProxyHeader parseV1Line(std::string_view line, size_t length) {
  ProxyHeader h;
  h.version = 1;
  h.length = length;
  if (line == "UNKNOWN" || line.starts_with("UNKNOWN ")) {
    h.status = ProxyStatus::Complete;  // the rest of the line is ignored (spec 2.1)
    return h;
  }
  std::array<std::string_view, 5> f;
  size_t n = 0;
  if (!splitFields(line, f, n) || n != 5) return invalid("v1: expected protocol, 2 addresses, 2 ports");
  if (f[0] != "TCP4" && f[0] != "TCP6") return invalid("v1: protocol is not TCP4, TCP6 or UNKNOWN");
  const Family fam = f[0] == "TCP4" ? Family::V4 : Family::V6;
  auto src = v1Address(f[1], fam);
  auto dst = v1Address(f[2], fam);
  if (!src || !dst) return invalid("v1: address does not match the protocol's family");
  auto sport = v1Port(f[3]);
  auto dport = v1Port(f[4]);
  if (!sport || !dport) return invalid("v1: bad port");
  h.source = SocketAddress{*src, *sport};
  h.destination = SocketAddress{*dst, *dport};
  h.status = ProxyStatus::Complete;
  return h;
}

ProxyHeader parseV1(std::span<const uint8_t> bytes) {
  // The whole line, CRLF included, is at most 107 bytes: a CR may stand at index 105
  // at the latest. (A CR at 106 with its LF at 107 made a 108-byte header that was
  // accepted when read whole and refused when read in pieces: the fuzz target found it.)
  const size_t scan = std::min(bytes.size(), kMaxProxyV1Bytes - 1);
  for (size_t i = 0; i < scan; ++i) {
    const uint8_t c = bytes[i];
    if (c == '\r') {
      if (i + 1 == bytes.size()) break;  // the LF may come in the next read
      if (bytes[i + 1] != '\n') return invalid("v1: CR not followed by LF");
      const std::string_view all(reinterpret_cast<const char*>(bytes.data()), i);
      return parseV1Line(all.substr(kV1Prefix.size()), i + 2);
    }
    if (c < 0x20 || c > 0x7E) return invalid("v1: control or non-ASCII byte in the line");
  }
  if (bytes.size() >= kMaxProxyV1Bytes) return invalid("v1: no CRLF within 107 bytes");
  ProxyHeader h;
  h.version = 1;
  return h;  // NeedMore
}

// ------------------------------------------------------------------ v2

/// Fills source/destination from the address block of an INET/INET6 STREAM
/// header; false when the block is shorter than the family needs.
bool v2Addresses(uint8_t famProto, std::span<const uint8_t> block, ProxyHeader& h) {
  const uint8_t family = famProto >> 4;
  const uint8_t proto = famProto & 0x0F;
  if (family == 0x1) {  // AF_INET: 4 + 4 + 2 + 2
    if (block.size() < 12) return false;
    if (proto != 0x1) return true;  // not TCP: keep the connection's endpoints
    h.source = SocketAddress{IpAddress::v4(block[0], block[1], block[2], block[3]), be16(&block[8])};
    h.destination = SocketAddress{IpAddress::v4(block[4], block[5], block[6], block[7]), be16(&block[10])};
    return true;
  }
  if (family == 0x2) {  // AF_INET6: 16 + 16 + 2 + 2
    if (block.size() < 36) return false;
    if (proto != 0x1) return true;
    std::array<uint8_t, 16> s, d;
    std::memcpy(s.data(), block.data(), 16);
    std::memcpy(d.data(), block.data() + 16, 16);
    h.source = SocketAddress{IpAddress::v6(s), be16(&block[32])};
    h.destination = SocketAddress{IpAddress::v6(d), be16(&block[34])};
    return true;
  }
  if (family == 0x3) return block.size() >= 216;  // AF_UNIX: two 108-byte paths
  return true;                                    // AF_UNSPEC: nothing to read
}

size_t v2AddressBytes(uint8_t family) {
  switch (family) {
    case 0x1:
      return 12;
    case 0x2:
      return 36;
    case 0x3:
      return 216;
    default:
      return 0;
  }
}

/// TLVs after the address block: type, 16-bit length, value; each must end
/// inside the header. Their content is not used.
bool v2TlvsFramed(std::span<const uint8_t> tlvs) {
  while (!tlvs.empty()) {
    if (tlvs.size() < 3) return false;
    const size_t len = be16(&tlvs[1]);
    if (tlvs.size() < 3 + len) return false;
    tlvs = tlvs.subspan(3 + len);
  }
  return true;
}

ProxyHeader parseV2(std::span<const uint8_t> bytes) {
  ProxyHeader h;
  h.version = 2;
  if (bytes.size() < kV2Fixed) {
    if (bytes.size() > 12 && (bytes[12] >> 4) != 0x2) return invalid("v2: version is not 2");
    if (bytes.size() > 12 && (bytes[12] & 0x0F) > 0x1) return invalid("v2: command is not LOCAL or PROXY");
    return h;  // NeedMore
  }
  const uint8_t verCmd = bytes[12];
  const uint8_t famProto = bytes[13];
  if ((verCmd >> 4) != 0x2) return invalid("v2: version is not 2");
  if ((verCmd & 0x0F) > 0x1) return invalid("v2: command is not LOCAL or PROXY");
  if ((famProto >> 4) > 0x3 || (famProto & 0x0F) > 0x2) return invalid("v2: unknown family or protocol");
  const size_t len = be16(&bytes[14]);
  if (kV2Fixed + len > kMaxProxyHeaderBytes) return invalid("v2: header longer than 2064 bytes");
  if (bytes.size() < kV2Fixed + len) return h;  // NeedMore
  const auto body = bytes.subspan(kV2Fixed, len);
  const bool local = (verCmd & 0x0F) == 0x0;
  const size_t addrBytes = v2AddressBytes(famProto >> 4);
  if (!local && body.size() < addrBytes) return invalid("v2: address block shorter than its family");
  if (!local && !v2Addresses(famProto, body, h)) return invalid("v2: address block shorter than its family");
  // LOCAL: the proxy speaks for itself; the body is skipped whatever it holds.
  if (!local && !v2TlvsFramed(body.subspan(addrBytes))) return invalid("v2: TLV runs past the header");
  h.length = kV2Fixed + len;
  h.status = ProxyStatus::Complete;
  return h;
}

}  // namespace

ProxyHeader parseProxyHeader(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return ProxyHeader{};
  if (prefixMatches(bytes, kV2Signature)) {
    if (bytes.size() < kV2Signature.size()) return ProxyHeader{};
    return parseV2(bytes);
  }
  if (prefixMatches(bytes, v1PrefixBytes())) {
    if (bytes.size() < kV1Prefix.size()) return ProxyHeader{};
    return parseV1(bytes);
  }
  return invalid("no PROXY protocol signature");
}

bool startsWithProxySignature(std::span<const uint8_t> bytes) {
  return (bytes.size() >= kV2Signature.size() && prefixMatches(bytes, kV2Signature)) ||
         (bytes.size() >= kV1Prefix.size() && prefixMatches(bytes, v1PrefixBytes()));
}

}  // namespace tw::stun
