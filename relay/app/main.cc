#include <cstdio>
#include <string>
#include <vector>

#include "relay/app/cli.h"
#include "relay/app/default_config.h"

int main(int argc, char** argv) {
  using namespace tw::app;
  const CliArgs args = parseCli(std::vector<std::string>(argv, argv + argc));
  if (!args.error.empty()) {
    std::fprintf(stderr, "turnwarden: %s\n\n%s", args.error.c_str(), usage().c_str());
    return 64;
  }
  if (args.command == "help") return std::fputs(usage().c_str(), stdout) < 0;
  if (args.command == "version") return std::puts("turnwarden " TW_VERSION_STRING) < 0;
  if (args.command == "default-config") {
    const auto text = defaultConfigText();
    return std::fwrite(text.data(), 1, text.size(), stdout) != text.size();
  }
  if (args.command == "check-config") return checkConfigCommand(args);
  if (args.command == "credential") return credentialCommand(args);
  if (args.command == "rotate") return rotateCommand(args);
  if (args.command == "fleet") return fleetCommand(args);
  if (args.command == "import-coturn") return importCoturnCommand(args);
  if (args.command == "doctor") return doctorCommand(args);
  if (args.command == "usage") return usageCommand(args);
  return runServer(args);
}
