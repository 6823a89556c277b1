#include "policy/rotation.h"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>

#include "policy/config.h"
#include "policy/secrets_file.h"
#include "relay/base/crypto.h"

namespace tw::policy {

namespace {
/// Two rotations within one second must still get distinct ids.
std::string uniqueId(const std::vector<Secret>& existing, int64_t nowUnix) {
  const std::string base = secretIdFor(nowUnix);
  auto taken = [&](const std::string& id) {
    return std::any_of(existing.begin(), existing.end(), [&](const Secret& s) { return s.id == id; });
  };
  std::string id = base;
  for (int n = 2; taken(id); ++n) id = base + "-" + std::to_string(n);
  return id;
}
}  // namespace

int64_t rotationGraceSeconds(const std::optional<RotationConfig>& rotation, int64_t maxTtlSeconds) {
  if (!rotation) return maxTtlSeconds;
  return std::chrono::duration_cast<std::chrono::seconds>(rotation->grace).count();
}

std::vector<Secret> withoutExpired(const std::vector<Secret>& current, int64_t nowUnix) {
  std::vector<Secret> out;
  for (const Secret& s : current)
    if (isUsable(s, nowUnix)) out.push_back(s);
  return out;
}

std::vector<Secret> rotateKeyring(const std::vector<Secret>& current, Random& rng, int64_t nowUnix,
                                  int64_t graceSeconds) {
  std::array<uint8_t, 32> key{};
  rng.fill(key);  // 256 bits from the CSPRNG
  Secret fresh{uniqueId(current, nowUnix), hexEncode(key), std::nullopt};
  key.fill(0);
  std::vector<Secret> out{fresh};
  const int64_t until = nowUnix + graceSeconds;
  for (Secret s : withoutExpired(current, nowUnix)) {
    s.notAfter = std::min(s.notAfter.value_or(until), until);
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<Secret>, std::string> rotateSecretsFile(const std::string& path, Random& rng,
                                                           int64_t nowUnix, int64_t graceSeconds) {
  auto loaded = loadSecretsFile(path);
  if (!loaded) return tw::err(formatErrors(loaded.error()));
  auto next = rotateKeyring(loaded.value(), rng, nowUnix, graceSeconds);
  if (auto st = writeSecretsFile(path, next); !st) return tw::err(st.error());
  return next;
}

std::optional<int64_t> fileMtime(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<int64_t>(st.st_mtime);
}

std::optional<int64_t> fileStampNs(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

bool rotationDue(int64_t lastWrittenUnix, int64_t nowUnix, tw::Duration interval) {
  if (interval.count() <= 0) return false;
  const int64_t secs = std::chrono::duration_cast<std::chrono::seconds>(interval).count();
  return nowUnix - lastWrittenUnix >= std::max<int64_t>(secs, 1);
}

}  // namespace tw::policy
