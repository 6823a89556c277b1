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

/// turn:/turns:/stun: URIs a browser uses for these listeners.
std::vector<std::string> clientUris(const policy::Config& config);
/// The URIs of the listeners that serve `realm` only.
std::vector<std::string> clientUris(const policy::Config& config, std::string_view realm);

/// {"urls":[...],"username":"...","credential":"..."} for RTCPeerConnection.
std::string iceServerJson(const std::vector<std::string>& uris,
                          const policy::MintedCredential& cred);

/// The credential-service JSON: {"username","password","ttl","uris"}.
std::string credentialJson(const std::vector<std::string>& uris,
                           const policy::MintedCredential& cred);

}  // namespace tw::app
