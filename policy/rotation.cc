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

Result<KeyringUpdate, std::string> rotateSecretsFile(const std::string& path, Random& rng, int64_t nowUnix,
                                                     int64_t graceSeconds, tw::Duration lockTimeout) {
  return updateSecretsFile(
      path,
      [&](const std::vector<Secret>& current) -> std::optional<std::vector<Secret>> {
        return rotateKeyring(current, rng, nowUnix, graceSeconds);
      },
      lockTimeout);
}

Result<KeyringUpdate, std::string> pruneSecretsFile(const std::string& path, int64_t nowUnix,
                                                    tw::Duration lockTimeout) {
  return updateSecretsFile(
      path,
      [&](const std::vector<Secret>& current) -> std::optional<std::vector<Secret>> {
        auto kept = withoutExpired(current, nowUnix);
        if (kept.size() == current.size() || kept.empty()) return std::nullopt;
        return kept;
      },
      lockTimeout);
}

std::optional<int64_t> fileMtime(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<int64_t>(st.st_mtime);
}

std::optional<int64_t> fileStampNs(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  const uint64_t ns =
      static_cast<uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(st.st_mtim.tv_nsec);
  // Each atomic write is a new inode (temp file + rename) of a new size as
  // the keyring grows or shrinks; mixing them in catches same-tick rewrites.
  const uint64_t mixed = ns ^ (static_cast<uint64_t>(st.st_ino) * 0x9E3779B97F4A7C15u) ^
                         (static_cast<uint64_t>(st.st_size) << 48);
  return static_cast<int64_t>(mixed);
}

bool rotationDue(int64_t lastWrittenUnix, int64_t nowUnix, tw::Duration interval) {
  if (interval.count() <= 0) return false;
  const int64_t secs = std::chrono::duration_cast<std::chrono::seconds>(interval).count();
  return nowUnix - lastWrittenUnix >= std::max<int64_t>(secs, 1);
}

}  // namespace tw::policy
