// `turnwarden import-coturn FILE [--secrets-out KEYRING]` (import_coturn.h).
#include <cstdio>
#include <filesystem>

#include "policy/secrets_file.h"
#include "relay/app/cli.h"
#include "relay/app/import_coturn.h"
#include "relay/base/files.h"

namespace tw::app {

int importCoturnCommand(const CliArgs& args) {
  auto text = readRegularFile(args.config, /*privateOnly=*/false);
  if (!text) {
    std::fprintf(stderr, "turnwarden: cannot read %s: %s\n", args.config.c_str(), text.error().c_str());
    return 2;
  }
  std::error_code ec;
  const std::string keyring =
      std::filesystem::absolute(args.secretsOut.empty() ? "turnwarden-secrets.yaml" : args.secretsOut, ec)
          .string();
  CoturnImport out = importCoturn(text.value(), args.config, keyring);
  for (const auto& w : out.warnings) std::fprintf(stderr, "%s\n", w.c_str());
  if (!out.secrets.empty()) {
    if (auto st = policy::writeSecretsFile(keyring, out.secrets); !st) {
      std::fprintf(stderr, "turnwarden: cannot write %s: %s\n", keyring.c_str(), st.error().c_str());
      return 2;
    }
    std::fprintf(stderr, "%s: %zu static-auth-secret value(s) written (mode 0600)\n", keyring.c_str(),
                 out.secrets.size());
  }
  std::fwrite(out.yaml.data(), 1, out.yaml.size(), stdout);
  return 0;
}

}  // namespace tw::app
