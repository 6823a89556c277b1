// libFuzzer target: the PROXY protocol parser (relay/stun/proxy_header.h).
//
// Input: a chunking seed byte string, then the bytes a connection delivers.
// Invariants:
//  - a Complete header is at most the input and at most the cap; its bytes
//    alone parse to the same header (nothing after it was looked at);
//  - NeedMore only for fewer bytes than the cap, and every prefix of a
//    Complete or NeedMore input is NeedMore or Complete with the same length
//    (a reader may consume what it showed the parser);
//  - reading the stream in fuzzer-chosen chunks, consuming on NeedMore as
//    relay/io does, ends with the same status and length as one parse;
//  - Invalid always names its reason.
#include <vector>

#include "relay/stun/proxy_header.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace tw;
using stun::ProxyStatus;

bool same(const stun::ProxyHeader& a, const stun::ProxyHeader& b) {
  return a.status == b.status && a.length == b.length && a.source == b.source &&
         a.destination == b.destination;
}

/// What relay/io does: show the parser what it has read; on NeedMore read more.
stun::ProxyHeader readInChunks(std::span<const uint8_t> stream, tw::fuzz::FuzzInput& chunker) {
  std::vector<uint8_t> seen;
  size_t at = 0;
  for (;;) {
    const size_t n = std::min<size_t>(stream.size() - at, 1 + chunker.u8() % 97);
    seen.insert(seen.end(), stream.begin() + static_cast<std::ptrdiff_t>(at),
                stream.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
    auto h = stun::parseProxyHeader(seen);
    if (h.status != ProxyStatus::NeedMore || at == stream.size()) return h;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tw::fuzz::FuzzInput in(data, size);
  const auto seed = in.bytes(16);
  const auto stream = in.all();
  const auto whole = stun::parseProxyHeader(stream);
  if (whole.status == ProxyStatus::Invalid) FUZZ_CHECK(!whole.error.empty());
  if (whole.status == ProxyStatus::NeedMore) FUZZ_CHECK(stream.size() < stun::kMaxProxyHeaderBytes);
  if (whole.status == ProxyStatus::Complete) {
    FUZZ_CHECK(whole.length > 0 && whole.length <= stream.size());
    FUZZ_CHECK(whole.length <= stun::kMaxProxyHeaderBytes);
    FUZZ_CHECK(same(stun::parseProxyHeader(stream.first(whole.length)), whole));
    FUZZ_CHECK(whole.source.has_value() == whole.destination.has_value());
  }
  if (whole.status != ProxyStatus::Invalid) {
    const size_t end = whole.status == ProxyStatus::Complete ? whole.length : stream.size();
    for (size_t n = 0; n < end; n += 1 + n / 8) {
      FUZZ_CHECK(stun::parseProxyHeader(stream.first(n)).status == ProxyStatus::NeedMore);
    }
  }
  if (stream.empty()) return 0;
  tw::fuzz::FuzzInput chunker(seed.data(), seed.size());
  const auto chunked = readInChunks(stream, chunker);
  FUZZ_CHECK(same(chunked, whole));
  return 0;
}
