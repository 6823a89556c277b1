#pragma once
// Command-line parsing and the subcommands of the turnwarden binary.
#include <optional>
#include <string>
#include <vector>

namespace tw::app {

struct CliArgs {
  std::string command;           // "run", "check-config", "credential", "help", "version", "default-config"
  std::string config;            // --config FILE (or the check-config argument)
  std::string user;              // --user
  std::string ttl;               // --ttl
  std::string realm;             // credential/rotate --realm (empty: the top-level realm)
  std::string secretsOut;        // import-coturn --secrets-out
  std::string sub;               // fleet SUBCOMMAND ("status")
  std::string from;              // usage --from FILE
  bool fleet = false;            // usage --fleet (the realm's Redis Stream; needs --config)
  std::string since;             // usage --since 7d
  std::string by = "user";       // usage --by user|realm|client-prefix
  std::string top = "20";        // usage --top N
  std::string format = "table";  // usage --format table|json|csv
  std::string error;             // set when the arguments did not parse
};

CliArgs parseCli(const std::vector<std::string>& argv);
std::string usage();

int runServer(const CliArgs& args);
int checkConfigCommand(const CliArgs& args);
int credentialCommand(const CliArgs& args);
int rotateCommand(const CliArgs& args);
int importCoturnCommand(const CliArgs& args);
int fleetCommand(const CliArgs& args);
int doctorCommand(const CliArgs& args);  // doctor_host.cc
int usageCommand(const CliArgs& args);   // usage_command.cc

}  // namespace tw::app
