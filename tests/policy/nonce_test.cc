#include "policy/nonce.h"

#include <catch2/catch.hpp>
#include <string>

#include "relay/base/clock.h"
#include "relay/base/random.h"

using tw::Duration;
using tw::IpAddress;
using tw::ManualClock;
using tw::policy::NonceService;
using tw::policy::NonceStatus;

namespace {

IpAddress ip(std::string_view text) {
  auto a = IpAddress::parse(text);
  REQUIRE(a.has_value());
  return *a;
}

std::array<uint8_t, 32> testKey(uint64_t seed) {
  tw::SeededRandom rng(seed);
  std::array<uint8_t, 32> key{};
  rng.fill(key);
  return key;
}

const Duration kLifetime{600'000};

bool printableAscii(const std::string& s) {
  for (char c : s)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

}  // namespace

TEST_CASE("NonceStatus names") {
  CHECK(toString(NonceStatus::Valid) == "valid");
  CHECK(toString(NonceStatus::Stale) == "stale");
  CHECK(toString(NonceStatus::Invalid) == "invalid");
}

TEST_CASE("a fresh nonce is valid for the client it was issued to, v4 and v6") {
  ManualClock clock;
  const NonceService nonces(testKey(1), kLifetime);
  for (const char* client : {"192.0.2.10", "2001:db8::10"}) {
    INFO(client);
    const std::string n = nonces.issue(ip(client), clock.now());
    CHECK(n.size() == NonceService::kNonceLength);
    CHECK(n.size() < 128);
    CHECK(printableAscii(n));
    CHECK(nonces.verify(n, ip(client), clock.now()) == NonceStatus::Valid);
  }
}

TEST_CASE("a nonce is valid through its lifetime and stale after it") {
  ManualClock clock;
  const NonceService nonces(testKey(2), kLifetime);
  const IpAddress client = ip("192.0.2.10");
  const std::string n = nonces.issue(client, clock.now());
  clock.advance(kLifetime - Duration{1});
  CHECK(nonces.verify(n, client, clock.now()) == NonceStatus::Valid);
  clock.advance(Duration{1});  // exactly at expiry
  CHECK(nonces.verify(n, client, clock.now()) == NonceStatus::Valid);
  clock.advance(Duration{1});
  CHECK(nonces.verify(n, client, clock.now()) == NonceStatus::Stale);
  clock.advance(Duration{86'400'000});
  CHECK(nonces.verify(n, client, clock.now()) == NonceStatus::Stale);
}

TEST_CASE("a nonce replayed from another IP is invalid") {
  ManualClock clock;
  const NonceService nonces(testKey(3), kLifetime);
  const std::string n = nonces.issue(ip("192.0.2.10"), clock.now());
  CHECK(nonces.verify(n, ip("192.0.2.11"), clock.now()) == NonceStatus::Invalid);
  CHECK(nonces.verify(n, ip("::ffff:192.0.2.10"), clock.now()) == NonceStatus::Invalid);
  const std::string n6 = nonces.issue(ip("2001:db8::10"), clock.now());
  CHECK(nonces.verify(n6, ip("2001:db8::11"), clock.now()) == NonceStatus::Invalid);
  // Even after expiry, a nonce from another IP is Invalid, not Stale.
  clock.advance(kLifetime + Duration{1});
  CHECK(nonces.verify(n, ip("192.0.2.11"), clock.now()) == NonceStatus::Invalid);
}

TEST_CASE("a nonce from another key is invalid") {
  ManualClock clock;
  const NonceService a(testKey(4), kLifetime);
  const NonceService b(testKey(5), kLifetime);
  const std::string n = a.issue(ip("192.0.2.10"), clock.now());
  CHECK(b.verify(n, ip("192.0.2.10"), clock.now()) == NonceStatus::Invalid);
}

TEST_CASE("every single-character change makes a nonce invalid") {
  ManualClock clock;
  const NonceService nonces(testKey(6), kLifetime);
  const IpAddress client = ip("192.0.2.10");
  const std::string n = nonces.issue(client, clock.now());
  for (size_t i = 0; i < n.size(); ++i) {
    for (char replacement : {'0', 'f', 'F', 'g', ' '}) {
      if (n[i] == replacement) continue;
      std::string t = n;
      t[i] = replacement;
      INFO(t);
      CHECK(nonces.verify(t, client, clock.now()) == NonceStatus::Invalid);
    }
  }
}

TEST_CASE("extending the expiry field is caught by the MAC") {
  ManualClock clock;
  const NonceService nonces(testKey(7), kLifetime);
  const IpAddress client = ip("192.0.2.10");
  const std::string n = nonces.issue(client, clock.now());
  clock.advance(kLifetime + Duration{1});
  REQUIRE(nonces.verify(n, client, clock.now()) == NonceStatus::Stale);
  // Re-issue-shaped nonce: a fresh expiry with the old MAC.
  const std::string fresh = nonces.issue(client, clock.now());
  const std::string forged = fresh.substr(0, 16) + n.substr(16);
  CHECK(nonces.verify(forged, client, clock.now()) == NonceStatus::Invalid);
}

TEST_CASE("garbage, empty, truncated and overlong nonces are invalid") {
  ManualClock clock;
  const NonceService nonces(testKey(8), kLifetime);
  const IpAddress client = ip("192.0.2.10");
  const std::string n = nonces.issue(client, clock.now());
  CHECK(nonces.verify("", client, clock.now()) == NonceStatus::Invalid);
  CHECK(nonces.verify("garbage", client, clock.now()) == NonceStatus::Invalid);
  CHECK(nonces.verify(n.substr(0, n.size() - 1), client, clock.now()) == NonceStatus::Invalid);
  CHECK(nonces.verify(n + "0", client, clock.now()) == NonceStatus::Invalid);
  CHECK(nonces.verify(n + n, client, clock.now()) == NonceStatus::Invalid);
  CHECK(nonces.verify(std::string(4096, 'a'), client, clock.now()) == NonceStatus::Invalid);
  CHECK(nonces.verify(std::string(NonceService::kNonceLength, '\0'), client, clock.now()) ==
        NonceStatus::Invalid);
  CHECK(nonces.verify(std::string(NonceService::kNonceLength, 'z'), client, clock.now()) ==
        NonceStatus::Invalid);
  std::string upper = n;
  for (char& c : upper)
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  if (upper != n) CHECK(nonces.verify(upper, client, clock.now()) == NonceStatus::Invalid);
}

TEST_CASE("an authentic nonce whose expiry is beyond one lifetime is rejected") {
  // Issued at a later instant than the verifier's now (as if the clock ran
  // backwards): never valid for longer than one lifetime.
  ManualClock clock;
  const NonceService nonces(testKey(9), kLifetime);
  const IpAddress client = ip("192.0.2.10");
  const tw::Instant start = clock.now();
  clock.advance(std::chrono::seconds(1));  // expiry has one-second resolution
  const std::string n = nonces.issue(client, clock.now());
  CHECK(nonces.verify(n, client, clock.now()) == NonceStatus::Valid);
  CHECK(nonces.verify(n, client, start) == NonceStatus::Invalid);
}

TEST_CASE("nonces issued at different times or to different clients differ") {
  ManualClock clock;
  const NonceService nonces(testKey(10), kLifetime);
  const std::string a = nonces.issue(ip("192.0.2.10"), clock.now());
  const std::string b = nonces.issue(ip("192.0.2.11"), clock.now());
  clock.advance(std::chrono::seconds(1));  // expiry has one-second resolution
  const std::string c = nonces.issue(ip("192.0.2.10"), clock.now());
  CHECK(a != b);
  CHECK(a != c);
  CHECK(nonces.lifetime() == kLifetime);
}
