#include "relay/base/random.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace tw {

uint32_t Random::u32() {
  uint32_t v;
  fill({reinterpret_cast<uint8_t*>(&v), sizeof v});
  return v;
}

uint64_t Random::u64() {
  uint64_t v;
  fill({reinterpret_cast<uint8_t*>(&v), sizeof v});
  return v;
}

uint32_t Random::below(uint32_t bound) {
  // Rejection sampling: discard the top partial block.
  const uint32_t limit = UINT32_MAX - (UINT32_MAX % bound);
  uint32_t v;
  do {
    v = u32();
  } while (v >= limit);
  return v % bound;
}

void CsprngRandom::fill(std::span<uint8_t> out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    // Without a working CSPRNG no secure nonce or port can be made: stop.
    std::abort();
  }
}

void BufferedRandom::fill(std::span<uint8_t> out) {
  if (out.size() > buf_.size()) return upstream_.fill(out);
  while (!out.empty()) {
    if (used_ == buf_.size()) {
      upstream_.fill(buf_);
      used_ = 0;
    }
    const size_t n = std::min(out.size(), buf_.size() - used_);
    std::memcpy(out.data(), buf_.data() + used_, n);
    std::memset(buf_.data() + used_, 0, n);  // handed out once, not kept
    used_ += n;
    out = out.subspan(n);
  }
}

void SeededRandom::fill(std::span<uint8_t> out) {
  for (auto& b : out) {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    b = static_cast<uint8_t>(s_ >> 24);
  }
}

}  // namespace tw
