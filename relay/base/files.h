#pragma once
// Reading the files an operator points the server at (config, keyring, JWKS,
// certificates), with the checks every such read makes.
#include <string>

#include "relay/base/result.h"

namespace tw {

/// Reads a whole regular file (at most 16 MiB). With `privateOnly`, a file
/// whose mode has any group/other bit (mode & 077) is refused; the check is
/// made on the opened descriptor so a concurrent chmod or rename cannot slip
/// past it. The error text does not include the path.
Result<std::string, std::string> readRegularFile(const std::string& path, bool privateOnly);

}  // namespace tw
