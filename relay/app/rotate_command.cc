// `turnwarden rotate --config FILE`: one manual rotation of the keyring file.
// Works offline and online alike: the file is rewritten atomically under the
// keyring lock (policy/keyring_lock.h, so concurrent rotations by other
// `rotate` runs or the server all survive), and a running server notices the
// new file within a second (keyring_watch.cc).
#include <cstdio>

#include "policy/rotation.h"
#include "relay/app/cli.h"
#include "relay/app/setup.h"
#include "relay/base/clock.h"
#include "relay/base/random.h"
#include "relay/fleet/fleet_command.h"

namespace tw::app {

int rotateCommand(const CliArgs& args) {
  auto cfg = loadOrReport(args.config);
  if (!cfg) return 2;
  if (cfg->fleet) return fleet::fleetRotateCommand(*cfg);  // the fleet keyring lives in Redis
  if (cfg->auth.secretsFile.empty()) {
    std::fprintf(stderr,
                 "turnwarden: rotate needs auth.secrets_file (inline auth.secrets "
                 "cannot be rewritten)\n");
    return 2;
  }
  const int64_t grace = policy::rotationGraceSeconds(cfg->auth.rotation, cfg->auth.maxTtlSeconds);
  SystemClock clock;
  CsprngRandom rng;
  const int64_t now = clock.unixSeconds();
  auto next = policy::rotateSecretsFile(cfg->auth.secretsFile, rng, now, grace);
  if (!next) {
    std::fprintf(stderr, "turnwarden: rotation failed: %s\n", next.error().c_str());
    return 2;
  }
  // Ids only: secret values are never printed.
  std::printf("rotated %s: new secret %s mints; previous secrets verify until %lld\n",
              cfg->auth.secretsFile.c_str(), next->secrets.front().id.c_str(),
              static_cast<long long>(now + grace));
  return 0;
}

}  // namespace tw::app
