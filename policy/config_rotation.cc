// auth.rotation: {interval, grace} (docs/config.md, policy/rotation.h).
#include "policy/config_quotas.h"
#include "policy/duration.h"

namespace tw::policy::config_detail {

namespace {
void readInterval(Reader& r, const Item& item, RotationConfig& out) {
  if (auto d = r.duration(item, std::chrono::seconds(1))) out.interval = *d;
}

void readGrace(Reader& r, const Item& item, RotationConfig& out) {
  if (auto d = r.duration(item, std::chrono::seconds(1))) out.grace = *d;
}

constexpr std::array<Field<RotationConfig>, 2> kRotationFields{{
    {"interval", readInterval, true},
    {"grace", readGrace, true},
}};
}  // namespace

void readRotation(Reader& r, const Item& item, std::optional<RotationConfig>& out) {
  if (item.node.IsNull()) return;
  RotationConfig rot;
  const size_t before = r.errorCount();
  readFields(r, item, kRotationFields, rot);
  if (r.errorCount() == before && item.node.IsMap()) out = rot;
}

void checkRotation(Reader& r, const Item& item, const AuthConfig& auth) {
  checkRotation(r, item, "auth", auth.rotation, auth.secretsFile, auth.maxTtlSeconds);
}

void checkRotation(Reader& r, const Item& item, std::string_view section,
                   const std::optional<RotationConfig>& rotation, const std::string& secretsFile,
                   int64_t maxTtlSeconds) {
  if (!rotation) return;
  const Item at = fieldItem(item, "rotation");
  const std::string name(section);
  if (secretsFile.empty())
    r.error(at, name + ".rotation needs " + name + ".secrets_file: the rotated keyring is written there");
  const auto grace = std::chrono::duration_cast<std::chrono::seconds>(rotation->grace).count();
  if (grace < maxTtlSeconds) {
    r.error(at, "grace (" + formatDuration(rotation->grace) + ") must be at least max_ttl (" +
                    formatDuration(std::chrono::seconds(maxTtlSeconds)) +
                    ") so credentials already handed out stay valid until they expire");
  }
}

}  // namespace tw::policy::config_detail
