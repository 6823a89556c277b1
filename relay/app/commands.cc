// The short subcommands: check-config, credential and fleet status.
#include <cstdio>

#include "policy/duration.h"
#include "relay/app/cli.h"
#include "relay/app/setup.h"
#include "relay/base/clock.h"
#include "relay/fleet/fleet_command.h"

namespace tw::app {

int checkConfigCommand(const CliArgs& args) {
  auto cfg = policy::loadConfig(args.config);
  if (!cfg) {
    std::fputs(policy::formatErrors(cfg.error()).c_str(), stdout);
    return 2;
  }
  std::printf("%s: OK\n", args.config.c_str());
  return 0;
}

int credentialCommand(const CliArgs& args) {
  auto cfg = loadOrReport(args.config);
  if (!cfg) return 2;
  Duration ttl = std::chrono::hours(1);
  if (!args.ttl.empty()) {
    auto parsed = policy::parseDuration(args.ttl);
    if (!parsed || parsed->count() <= 0) {
      std::fprintf(stderr, "turnwarden: bad --ttl value\n");
      return 64;
    }
    ttl = *parsed;
  }
  const int64_t ttlSeconds = std::min<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(ttl).count(),
                                               cfg->auth.maxTtlSeconds);
  const std::string realm = args.realm.empty() ? cfg->realm : args.realm;
  const std::vector<policy::Secret>* secrets = policy::realmSecrets(*cfg, realm);
  if (!secrets) {
    std::fprintf(stderr, "turnwarden: no listener of %s serves realm '%s'\n", args.config.c_str(),
                 realm.c_str());
    return 2;
  }
  SystemClock clock;
  // A fleet shares the global keyring through Redis; realm keyrings come from the config.
  const bool global = secrets == &cfg->auth.secrets;
  policy::Keyring keyring(cfg->fleet && global ? fleet::fleetSecretsForCli(*cfg) : *secrets);
  auto cred = policy::mintCredential(keyring, args.user, ttlSeconds, clock.unixSeconds());
  if (!cred) {
    std::string file = cfg->auth.secretsFile;
    for (const auto& ra : cfg->auth.realms)
      if (!global && ra.realm == realm) file = ra.secretsFile;
    std::fprintf(stderr, "turnwarden: no usable secret (start the server once to generate %s)\n",
                 file.empty() ? "one" : file.c_str());
    return 2;
  }
  std::printf("%s\n", credentialJson(clientUris(*cfg, realm), *cred).c_str());
  return 0;
}

int fleetCommand(const CliArgs& args) {
  auto cfg = loadOrReport(args.config);
  if (!cfg) return 2;
  if (!cfg->fleet)
    return std::fprintf(stderr, "turnwarden: %s has no fleet: section\n", args.config.c_str()), 2;
  return fleet::fleetStatusCommand(*cfg);
}

}  // namespace tw::app
