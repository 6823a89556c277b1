#pragma once
// Checks a certificate and private key given as PEM text before anything
// serves with them: an HTTPS listener (libmicrohttpd) is only as good as the
// files it was handed, and a 0-byte or half-written certificate must be an
// error at check-config, start-up and reload, never a listener that quietly
// serves something else.
#include <optional>
#include <string>
#include <string_view>

namespace tw {

enum class PemProblemAt { Cert, Key };

struct PemProblem {
  PemProblemAt at;
  std::string message;
};

/// nullopt when `certPem` holds at least one X.509 certificate (the first is
/// the server's), `keyPem` a private key, and the key is the certificate's;
/// else which file is wrong and why ("is empty", "holds no PEM certificate",
/// "the key does not match the certificate").
std::optional<PemProblem> pemPairProblem(std::string_view certPem, std::string_view keyPem);

}  // namespace tw
