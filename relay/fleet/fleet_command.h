#pragma once
// CLI commands on the fleet in Redis (fleet_command.cc, docs/fleet.md).
#include <functional>
#include <string_view>
#include <vector>

#include "policy/config.h"

namespace tw::fleet {

/// `turnwarden rotate` with fleet: rotates the fleet keyring (seeding it
/// from the local keyring if Redis has none). Exit code.
int fleetRotateCommand(const policy::Config& cfg);
/// The keyring `turnwarden credential` mints with under fleet: the fleet's,
/// or the local copy (with a warning on stderr) when Redis is unreachable.
std::vector<policy::Secret> fleetSecretsForCli(const policy::Config& cfg);
/// `turnwarden fleet status`: keyring version, lease holder, live nodes.
int fleetStatusCommand(const policy::Config& cfg);
/// `turnwarden usage --fleet`: calls `onRecord` with every record of the
/// realm's usage stream, oldest first, read 1000 at a time; the error when
/// Redis cannot be read.
Status<std::string> readUsageStream(const policy::Config& cfg,
                                    const std::function<void(std::string_view)>& onRecord);

}  // namespace tw::fleet
