#include "relay/app/cli.h"

namespace tw::app {

namespace {
bool takeValue(const std::vector<std::string>& a, size_t& i, std::string& out, CliArgs& r) {
  if (i + 1 >= a.size()) {
    r.error = "option " + a[i] + " needs a value";
    return false;
  }
  out = a[++i];
  return true;
}

void parseOptions(const std::vector<std::string>& a, size_t i, CliArgs& r) {
  for (; i < a.size() && r.error.empty(); ++i) {
    const std::string& arg = a[i];
    if (arg == "--config" || arg == "-c")
      takeValue(a, i, r.config, r);
    else if (arg == "--user" || arg == "-u")
      takeValue(a, i, r.user, r);
    else if (arg == "--ttl")
      takeValue(a, i, r.ttl, r);
    else if (arg == "--realm" && (r.command == "credential" || r.command == "rotate"))
      takeValue(a, i, r.realm, r);
    else if (arg == "--secrets-out")
      takeValue(a, i, r.secretsOut, r);
    else if (r.command == "usage" && arg == "--from")
      takeValue(a, i, r.from, r);
    else if (r.command == "usage" && arg == "--fleet")
      r.fleet = true;
    else if (r.command == "usage" && arg == "--since")
      takeValue(a, i, r.since, r);
    else if (r.command == "usage" && arg == "--by")
      takeValue(a, i, r.by, r);
    else if (r.command == "usage" && arg == "--top")
      takeValue(a, i, r.top, r);
    else if (r.command == "usage" && arg == "--format")
      takeValue(a, i, r.format, r);
    else if (arg == "--help" || arg == "-h")
      r.command = "help";
    else if (r.command == "fleet" && r.sub.empty() && arg[0] != '-')
      r.sub = arg;
    else if ((r.command == "check-config" || r.command == "import-coturn") && r.config.empty() &&
             arg[0] != '-')
      r.config = arg;
    else
      r.error = "unknown argument: " + arg;
  }
}
}  // namespace

CliArgs parseCli(const std::vector<std::string>& argv) {
  CliArgs r;
  r.command = "run";
  size_t i = 1;
  if (argv.size() > 1 && argv[1].rfind('-', 0) != 0) {
    r.command = argv[1];
    i = 2;
  }
  if (argv.size() > 1 && argv[1] == "--version") r.command = "version", i = 2;
  const char* known[] = {"run",    "check-config",  "credential", "help",  "version", "default-config",
                         "rotate", "import-coturn", "doctor",     "fleet", "usage"};
  bool ok = false;
  for (const char* k : known) ok = ok || r.command == k;
  if (!ok) r.error = "unknown command: " + r.command;
  if (r.error.empty()) parseOptions(argv, i, r);
  if (r.error.empty() && r.command == "check-config" && r.config.empty())
    r.error = "check-config needs a FILE";
  if (r.error.empty() && r.command == "import-coturn" && r.config.empty())
    r.error = "import-coturn needs a coturn config FILE";
  if (r.error.empty() && r.command == "rotate" && r.config.empty()) r.error = "rotate needs --config FILE";
  if (r.error.empty() && r.command == "fleet" && (r.sub != "status" || r.config.empty()))
    r.error = "usage: turnwarden fleet status --config FILE";
  if (r.error.empty() && r.command == "doctor" && r.config.empty()) r.error = "doctor needs --config FILE";
  if (r.error.empty() && r.command == "usage" && r.from.empty() == !r.fleet)
    r.error = "usage needs --from FILE or --fleet --config FILE";
  if (r.error.empty() && r.command == "usage" && r.fleet && r.config.empty())
    r.error = "usage --fleet needs --config FILE (its fleet: section)";
  if (r.error.empty() && r.command == "credential" && r.user.empty())
    r.error = "credential needs --user NAME";
  return r;
}

std::string usage() {
  return R"(turnwarden - a hardened TURN/STUN relay (RFC 8489, RFC 8656)

Usage:
  turnwarden [--config FILE]            run the server (default: the built-in etc/turnwarden.yaml)
  turnwarden check-config FILE          validate FILE; prints FILE:LINE:COL: message per problem, exit 2
  turnwarden credential --config FILE --user NAME [--ttl 1h] [--realm NAME]
                                        print TURN REST credentials as JSON
                                        (username, password, ttl, uris), minted
                                        with the keyring of realm NAME (default:
                                        the top-level realm); valid only on the
                                        listeners of that realm, whose URIs it lists
  turnwarden rotate --config FILE [--realm NAME]
                                        rotate the REST secret in auth.secrets_file (with --realm,
                                        auth.realms.NAME.secrets_file) now: a new 256-bit secret
                                        mints, the previous ones verify until the rotation grace
                                        (or max_ttl) ends; a running server picks the new keyring
                                        up within a second
  turnwarden import-coturn FILE [--secrets-out KEYRING]
                                        convert a coturn turnserver.conf to turnwarden YAML on
                                        stdout; untranslatable options are warned about on stderr
                                        with their line numbers; static-auth-secret values go to
                                        KEYRING (default ./turnwarden-secrets.yaml, mode 0600)
  turnwarden fleet status --config FILE list the fleet's live nodes, keyring version and
                                        rotation lease holder (fleet mode, docs/fleet.md);
                                        with fleet: set, rotate and credential act on the
                                        fleet keyring in Redis
  turnwarden doctor --config FILE       check this host against FILE, read-only: open-file
                                        limit, ephemeral ports, addresses, certificates,
                                        keyring, metrics/admin exposure, UDP buffers; prints
                                        OK/WARN/FAIL with the fix, exit 1 on any FAIL
  turnwarden usage --from FILE|--fleet [--config FILE] [--since 7d]
        [--by user|realm|client-prefix] [--top 20] [--format table|json|csv]
                                        sum the usage records of FILE (usage.file, docs/usage.md),
                                        or with --fleet of the realm's Redis Stream
                                        per user, realm or client /24 (/48): bytes and packets each
                                        way, allocations; a malformed line is reported on stderr
                                        with its line number and skipped (exit 1 if any)
  turnwarden default-config             print the built-in default config
  turnwarden --help | --version

Signals: SIGTERM/SIGINT stop the server (exit 0); SIGHUP reloads the config
(an invalid file is refused and the running policy stays in place); SIGUSR1
reopens the event log and usage files (events.file, usage.file, for logrotate); SIGUSR2 rotates the
REST secret now.
)";
}

}  // namespace tw::app
