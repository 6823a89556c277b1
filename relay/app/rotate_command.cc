// `turnwarden rotate --config FILE [--realm REALM]`: one manual rotation of
// the keyring file (auth.secrets_file, or auth.realms.REALM.secrets_file).
// Works offline and online alike: the file is rewritten atomically under the
// keyring lock (policy/keyring_lock.h, so concurrent rotations by other
// `rotate` runs or the server all survive), and a running server notices the
// new file within a second (keyring_watch.cc).
#include <cstdio>
#include <optional>
#include <string>

#include "policy/rotation.h"
#include "relay/app/cli.h"
#include "relay/app/setup.h"
#include "relay/base/clock.h"
#include "relay/base/random.h"
#include "relay/fleet/fleet_command.h"

namespace tw::app {

namespace {
/// The keyring file and rotation settings `turnwarden rotate` acts on: the
/// global ones, or auth.realms.REALM's with --realm REALM.
struct RotationTarget {
  std::string file;
  std::optional<policy::RotationConfig> rotation;
};

std::optional<RotationTarget> rotationTarget(const policy::Config& cfg, const std::string& realm) {
  if (realm.empty() || realm == cfg.realm) return RotationTarget{cfg.auth.secretsFile, cfg.auth.rotation};
  for (const auto& ra : cfg.auth.realms)
    if (ra.realm == realm && !ra.useGlobalKeyring) return RotationTarget{ra.secretsFile, ra.rotation};
  std::fprintf(stderr, "turnwarden: realm '%s' has no keyring of its own in auth.realms\n", realm.c_str());
  return std::nullopt;
}
}  // namespace

int rotateCommand(const CliArgs& args) {
  auto cfg = loadOrReport(args.config);
  if (!cfg) return 2;
  const bool global = args.realm.empty() || args.realm == cfg->realm;
  if (cfg->fleet && global) return fleet::fleetRotateCommand(*cfg);  // the fleet keyring lives in Redis
  const auto target = rotationTarget(*cfg, args.realm);
  if (!target) return 2;
  if (target->file.empty()) {
    std::fprintf(stderr,
                 "turnwarden: rotate needs a secrets_file (inline secrets "
                 "cannot be rewritten)\n");
    return 2;
  }
  const int64_t grace = policy::rotationGraceSeconds(target->rotation, cfg->auth.maxTtlSeconds);
  SystemClock clock;
  CsprngRandom rng;
  const int64_t now = clock.unixSeconds();
  auto next = policy::rotateSecretsFile(target->file, rng, now, grace);
  if (!next) {
    std::fprintf(stderr, "turnwarden: rotation failed: %s\n", next.error().c_str());
    return 2;
  }
  // Ids only: secret values are never printed.
  std::printf("rotated %s: new secret %s mints; previous secrets verify until %lld\n", target->file.c_str(),
              next->secrets.front().id.c_str(), static_cast<long long>(now) + grace);
  return 0;
}

}  // namespace tw::app
