#pragma once
// Shared start-up steps of the subcommands: loading the config (from a file
// or the built-in default) and turning listeners into client URIs.
#include <string>
#include <vector>

#include "policy/config.h"
#include "policy/credentials.h"

namespace tw::app {

/// Loads --config FILE, or the built-in default when FILE is empty. On
/// failure prints every FILE:LINE:COL error to stderr and returns nullopt.
std::optional<policy::Config> loadOrReport(const std::string& path);

/// turn:/turns: URIs a browser uses for these listeners: on public_name when it is
/// set, else on external_address or the listener's address; each URI once.
std::vector<std::string> clientUris(const policy::Config& config);
/// The URIs of the listeners that serve `realm` only.
std::vector<std::string> clientUris(const policy::Config& config, std::string_view realm);

/// The command that mints a REST credential for the server run with
/// CONFIGPATH (empty: the built-in config): `turnwarden credential --config
/// FILE --user NAME`.
std::string mintCommand(const std::string& configPath);

/// The start-up line: the listeners' URIs and the command that mints a
/// credential. Never a credential: a log line outlives its readers' rights.
std::string startupIceLine(const std::vector<std::string>& uris, const std::string& configPath);

/// The credential-service JSON: {"username","password","ttl","uris"}.
std::string credentialJson(const std::vector<std::string>& uris, const policy::MintedCredential& cred);

}  // namespace tw::app
