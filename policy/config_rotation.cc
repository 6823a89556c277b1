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

void readRotation(Reader& r, const Item& item, AuthConfig& out) {
  if (item.node.IsNull()) return;
  RotationConfig rot;
  const size_t before = r.errorCount();
  readFields(r, item, kRotationFields, rot);
  if (r.errorCount() == before && item.node.IsMap()) out.rotation = rot;
}

void checkRotation(Reader& r, const Item& item, const AuthConfig& auth) {
  if (!auth.rotation) return;
  const Item at = fieldItem(item, "rotation");
  if (auth.secretsFile.empty())
    r.error(at, "auth.rotation needs auth.secrets_file: the rotated keyring is written there");
  const auto grace = std::chrono::duration_cast<std::chrono::seconds>(auth.rotation->grace).count();
  if (grace < auth.maxTtlSeconds) {
    r.error(at, "grace (" + formatDuration(auth.rotation->grace) + ") must be at least max_ttl (" +
                    formatDuration(std::chrono::seconds(auth.maxTtlSeconds)) +
                    ") so credentials already handed out stay valid until they expire");
  }
}

}  // namespace tw::policy::config_detail
