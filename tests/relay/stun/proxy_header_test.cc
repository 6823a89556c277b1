// The PROXY protocol parser (relay/stun/proxy_header.h): v1 text, v2 binary,
// every prefix of a valid header, and what a trusted proxy may not send.
#include "relay/stun/proxy_header.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace {

using tw::IpAddress;
using tw::SocketAddress;
using tw::stun::parseProxyHeader;
using tw::stun::ProxyStatus;

std::vector<uint8_t> bytesOf(std::string_view s) { return {s.begin(), s.end()}; }

const std::vector<uint8_t> kSig{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/// A v2 header: signature, ver/cmd, fam/proto, length, then `body`.
std::vector<uint8_t> v2(uint8_t verCmd, uint8_t famProto, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> h = kSig;
  h.push_back(verCmd);
  h.push_back(famProto);
  h.push_back(static_cast<uint8_t>(body.size() >> 8));
  h.push_back(static_cast<uint8_t>(body.size()));
  h.insert(h.end(), body.begin(), body.end());
  return h;
}

/// 192.0.2.7:40000 -> 198.51.100.1:3478, then `extra` (TLVs).
std::vector<uint8_t> inetBody(std::vector<uint8_t> extra = {}) {
  std::vector<uint8_t> b{192, 0, 2, 7, 198, 51, 100, 1, 0x9C, 0x40, 0x0D, 0x96};
  b.insert(b.end(), extra.begin(), extra.end());
  return b;
}

/// Every proper prefix of a valid header is NeedMore (so a reader may consume it).
void checkPrefixesNeedMore(const std::vector<uint8_t>& header) {
  for (size_t n = 0; n < header.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    CHECK(parseProxyHeader(std::span(header.data(), n)).status == ProxyStatus::NeedMore);
  }
}

}  // namespace

TEST_CASE("proxy v1: TCP4 gives the source and destination and the header length") {
  const auto line = bytesOf("PROXY TCP4 192.0.2.7 198.51.100.1 40000 3478\r\n");
  auto withData = line;
  withData.push_back(0x00);  // a STUN byte right behind the header is not consumed
  const auto h = parseProxyHeader(withData);
  REQUIRE(h.status == ProxyStatus::Complete);
  CHECK(h.version == 1);
  CHECK(h.length == line.size());
  CHECK(h.source == SocketAddress{IpAddress::v4(192, 0, 2, 7), 40000});
  CHECK(h.destination == SocketAddress{IpAddress::v4(198, 51, 100, 1), 3478});
  checkPrefixesNeedMore(line);
}

TEST_CASE("proxy v1: TCP6 and the longest line the spec allows") {
  const std::string longest =
      "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
      "65535 65535\r\n";
  auto h = parseProxyHeader(bytesOf(longest));
  REQUIRE(h.status == ProxyStatus::Complete);
  CHECK(h.source->port == 65535);
  CHECK(h.source->ip.family() == tw::Family::V6);
  // The spec's worst case is UNKNOWN followed by TCP6's fields: 107 bytes.
  const std::string unknown = "PROXY UNKNOWN" + longest.substr(10);
  REQUIRE(unknown.size() == tw::stun::kMaxProxyV1Bytes);
  CHECK(parseProxyHeader(bytesOf(unknown)).status == ProxyStatus::Complete);
  h = parseProxyHeader(bytesOf("PROXY TCP6 2001:db8::1 2001:db8::2 1 0\r\n"));
  REQUIRE(h.status == ProxyStatus::Complete);
  CHECK(h.source == SocketAddress{*IpAddress::parse("2001:db8::1"), 1});
}

TEST_CASE("proxy v1: UNKNOWN keeps the connection's own addresses") {
  for (const char* text : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"}) {
    const auto h = parseProxyHeader(bytesOf(text));
    REQUIRE(h.status == ProxyStatus::Complete);
    CHECK_FALSE(h.source.has_value());
    CHECK(h.length == std::string_view(text).size());
  }
}

TEST_CASE("proxy v1: malformed lines are invalid, with a reason") {
  const char* bad[] = {
      "PROXY TCP4 192.0.2.7 198.51.100.1 40000 3478\n",      // LF without CR
      "PROXY TCP4 192.0.2.7 198.51.100.1 40000 3478\rX",     // CR without LF
      "PROXY TCP4 192.0.2.7  198.51.100.1 40000 3478\r\n",   // two spaces
      "PROXY TCP4 192.0.2.7 198.51.100.1 40000 3478 \r\n",   // trailing space
      "PROXY TCP4 192.0.2.7 198.51.100.1 40000\r\n",         // a port missing
      "PROXY TCP4 192.0.2.7 198.51.100.1 40000 3478 9\r\n",  // a field too many
      "PROXY TCP4 2001:db8::1 198.51.100.1 1 2\r\n",         // v6 address under TCP4
      "PROXY TCP6 192.0.2.7 2001:db8::1 1 2\r\n",            // v4 address under TCP6
      "PROXY TCP4 192.0.2.7 198.51.100.1 65536 3478\r\n",    // port out of range
      "PROXY TCP4 192.0.2.7 198.51.100.1 040000 3478\r\n",   // leading zero
      "PROXY TCP4 192.0.2.7 198.51.100.1 -1 3478\r\n",       // sign
      "PROXY UDP4 192.0.2.7 198.51.100.1 1 2\r\n",           // not TCP
      "PROXY tcp4 192.0.2.7 198.51.100.1 1 2\r\n",           // case matters
      "PROXY TCP4 192.0.2.256 198.51.100.1 1 2\r\n",         // not an address
      "PROXY \r\n",                                          // empty
      "PROXY TCP4 192.0.2.7\t198.51.100.1 1 2\r\n",          // a control byte
  };
  for (const char* text : bad) {
    INFO(text);
    const auto h = parseProxyHeader(bytesOf(text));
    CHECK(h.status == ProxyStatus::Invalid);
    CHECK_FALSE(h.error.empty());
  }
}

TEST_CASE("proxy v1: no CRLF within 107 bytes is invalid, not a wait") {
  std::string line = "PROXY UNKNOWN ";
  line.append(tw::stun::kMaxProxyV1Bytes - line.size() - 1, 'x');
  CHECK(parseProxyHeader(bytesOf(line)).status == ProxyStatus::NeedMore);  // 106 bytes
  line.push_back('x');
  CHECK(parseProxyHeader(bytesOf(line)).status == ProxyStatus::Invalid);
  line.push_back('\r');  // the CR at byte 108 is one too far
  CHECK(parseProxyHeader(bytesOf(line)).status == ProxyStatus::Invalid);
}

TEST_CASE("proxy v1: a 108-byte line is refused whole and in pieces alike") {
  std::string line = "PROXY UNKNOWN ";
  line.append(tw::stun::kMaxProxyV1Bytes - line.size() - 1, 'x');  // 106 bytes, CR next
  line += "\r\n";                                                  // CR at index 106: 108 bytes
  CHECK(parseProxyHeader(bytesOf(line)).status == ProxyStatus::Invalid);
  CHECK(parseProxyHeader(bytesOf(line.substr(0, 107))).status == ProxyStatus::Invalid);
}

TEST_CASE("proxy: bytes that are neither signature are invalid at the first wrong byte") {
  CHECK(parseProxyHeader({}).status == ProxyStatus::NeedMore);
  CHECK(parseProxyHeader(bytesOf("P")).status == ProxyStatus::NeedMore);
  CHECK(parseProxyHeader(bytesOf("PROXX")).status == ProxyStatus::Invalid);
  CHECK(parseProxyHeader(bytesOf("GET / HTTP/1.1\r\n")).status == ProxyStatus::Invalid);
  // A STUN Binding request and a TLS ClientHello, as a client without a proxy sends them.
  CHECK(parseProxyHeader(std::vector<uint8_t>{0x00, 0x01, 0x00, 0x00}).status == ProxyStatus::Invalid);
  CHECK(parseProxyHeader(std::vector<uint8_t>{0x16, 0x03, 0x01, 0x02}).status == ProxyStatus::Invalid);
  auto sig = kSig;
  sig[11] = 0x0B;  // the last signature byte wrong
  CHECK(parseProxyHeader(sig).status == ProxyStatus::Invalid);
}

TEST_CASE("proxy v2: PROXY over TCP/IPv4 gives the addresses, TLVs are skipped") {
  // PP2_TYPE_ALPN "h2" and PP2_TYPE_NOOP of length 0.
  const auto h0 = v2(0x21, 0x11, inetBody({0x01, 0x00, 0x02, 'h', '2', 0x04, 0x00, 0x00}));
  auto stream = h0;
  stream.insert(stream.end(), {0x16, 0x03, 0x01});  // the ClientHello behind it
  const auto h = parseProxyHeader(stream);
  REQUIRE(h.status == ProxyStatus::Complete);
  CHECK(h.version == 2);
  CHECK(h.length == h0.size());
  CHECK(h.source == SocketAddress{IpAddress::v4(192, 0, 2, 7), 40000});
  CHECK(h.destination == SocketAddress{IpAddress::v4(198, 51, 100, 1), 3478});
  checkPrefixesNeedMore(h0);
}

TEST_CASE("proxy v2: PROXY over TCP/IPv6") {
  std::vector<uint8_t> body(36, 0);
  body[0] = 0x20, body[1] = 0x01, body[2] = 0x0d, body[3] = 0xb8, body[15] = 0x01;  // 2001:db8::1
  body[16] = 0x20, body[17] = 0x01, body[18] = 0x0d, body[19] = 0xb8, body[31] = 0x02;
  body[32] = 0x13, body[33] = 0x88;  // 5000
  body[34] = 0x0D, body[35] = 0x96;  // 3478
  const auto h = parseProxyHeader(v2(0x21, 0x21, body));
  REQUIRE(h.status == ProxyStatus::Complete);
  CHECK(h.source == SocketAddress{*IpAddress::parse("2001:db8::1"), 5000});
  CHECK(h.destination == SocketAddress{*IpAddress::parse("2001:db8::2"), 3478});
}

TEST_CASE("proxy v2: LOCAL (the proxy's health check) has no source, whatever its body") {
  for (const auto& hdr : {v2(0x20, 0x00, {}), v2(0x20, 0x11, inetBody()), v2(0x20, 0x00, {0xff, 0xff})}) {
    const auto h = parseProxyHeader(hdr);
    REQUIRE(h.status == ProxyStatus::Complete);
    CHECK_FALSE(h.source.has_value());
    CHECK(h.length == hdr.size());
  }
}

TEST_CASE("proxy v2: UNSPEC, UNIX and UDP keep the connection's own addresses") {
  for (const auto& hdr :
       {v2(0x21, 0x00, {}), v2(0x21, 0x31, std::vector<uint8_t>(216, 'a')), v2(0x21, 0x12, inetBody())}) {
    const auto h = parseProxyHeader(hdr);
    REQUIRE(h.status == ProxyStatus::Complete);
    CHECK_FALSE(h.source.has_value());
  }
}

TEST_CASE("proxy v2: bad version, command, family, short blocks and broken TLVs are invalid") {
  const std::vector<std::vector<uint8_t>> bad{
      v2(0x11, 0x11, inetBody()),                         // version 1 in a v2 header
      v2(0x31, 0x11, inetBody()),                         // version 3
      v2(0x22, 0x11, inetBody()),                         // command 2
      v2(0x21, 0x41, inetBody()),                         // family 4
      v2(0x21, 0x13, inetBody()),                         // protocol 3
      v2(0x21, 0x11, std::vector<uint8_t>(11, 0)),        // IPv4 block one byte short
      v2(0x21, 0x21, std::vector<uint8_t>(35, 0)),        // IPv6 block one byte short
      v2(0x21, 0x31, std::vector<uint8_t>(215, 0)),       // UNIX block one byte short
      v2(0x21, 0x11, inetBody({0x01, 0x00})),             // TLV header cut
      v2(0x21, 0x11, inetBody({0x01, 0x00, 0x05, 'a'})),  // TLV value past the end
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    INFO("case " << i);
    const auto h = parseProxyHeader(bad[i]);
    CHECK(h.status == ProxyStatus::Invalid);
    CHECK_FALSE(h.error.empty());
  }
  // Version and command are refused as soon as byte 13 is there, before the length.
  auto early = kSig;
  early.push_back(0x31);
  CHECK(parseProxyHeader(early).status == ProxyStatus::Invalid);
}

TEST_CASE("proxy v2: a length over the cap is invalid at once, not awaited") {
  std::vector<uint8_t> hdr = kSig;
  const size_t body = tw::stun::kMaxProxyHeaderBytes - 16 + 1;
  hdr.insert(hdr.end(), {0x21, 0x11, static_cast<uint8_t>(body >> 8), static_cast<uint8_t>(body)});
  CHECK(parseProxyHeader(hdr).status == ProxyStatus::Invalid);
  hdr[14] = 0xFF, hdr[15] = 0xFF;
  CHECK(parseProxyHeader(hdr).status == ProxyStatus::Invalid);
  // The largest accepted: addresses plus one TLV filling the rest.
  const size_t fill = tw::stun::kMaxProxyHeaderBytes - 16 - 12 - 3;
  std::vector<uint8_t> tlv{0xE0, static_cast<uint8_t>(fill >> 8), static_cast<uint8_t>(fill)};
  tlv.resize(3 + fill, 'z');
  const auto big = v2(0x21, 0x11, inetBody(tlv));
  REQUIRE(big.size() == tw::stun::kMaxProxyHeaderBytes);
  CHECK(parseProxyHeader(big).status == ProxyStatus::Complete);
}

TEST_CASE("proxy: startsWithProxySignature needs a whole signature") {
  using tw::stun::startsWithProxySignature;
  CHECK(startsWithProxySignature(bytesOf("PROXY TCP4")));
  CHECK(startsWithProxySignature(bytesOf("PROXY ")));
  CHECK_FALSE(startsWithProxySignature(bytesOf("PROXY")));
  CHECK(startsWithProxySignature(kSig));
  CHECK_FALSE(startsWithProxySignature(std::span(kSig.data(), 11)));
  CHECK_FALSE(startsWithProxySignature(std::vector<uint8_t>{0x00, 0x01, 0x00, 0x00, 0x21, 0x12}));
}
