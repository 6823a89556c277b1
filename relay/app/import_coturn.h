#pragma once
// `turnwarden import-coturn turnserver.conf > turnwarden.yaml`: converts the
// options of a coturn config that have a turnwarden equivalent (listening-ip,
// listening-port, tls-listening-port, relay-ip, external-ip, min-port,
// max-port, realm, use-auth-secret, static-auth-secret, allowed-peer-ip,
// denied-peer-ip, no-loopback-peers, allow-loopback-peers, no-multicast-peers,
// user-quota, total-quota, max-bps, bps-capacity, stale-nonce, cert, pkey,
// no-tcp, no-udp, no-tls, no-dtls, user=). Everything else becomes a warning
// with its line number. The YAML is built so that it passes check-config:
// values turnwarden would refuse are left out with a warning instead.
#include <string>
#include <string_view>
#include <vector>

#include "policy/credentials.h"

namespace tw::app {

struct CoturnImport {
  std::string yaml;
  /// static-auth-secret values for the keyring file (auth.secrets_file).
  std::vector<policy::Secret> secrets;
  /// "FILE:LINE: warning: ..." lines.
  std::vector<std::string> warnings;
};

/// `secretsPath` is written into the YAML as auth.secrets_file (absolute).
CoturnImport importCoturn(std::string_view confText, std::string_view fileName,
                          const std::string& secretsPath);

}  // namespace tw::app
