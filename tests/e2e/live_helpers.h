#pragma once
// Helpers shared by the live-binary policy tests: a client holding a REST
// credential, and a SIGHUP reload that waits for the server's verdict.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "policy/credentials.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

namespace tw::testing {

/// A client on `local` with a REST credential for `user`, minted from
/// `secret` and valid for an hour.
/// A client holding exactly the REST credential `name` (`expiry:user`): what
/// quotas.per_user counts, together with the client IP.
inline StunClient restClientNamed(const SocketAddress& server, const std::string& secret,
                                  const std::string& name, const char* local = "127.0.0.1:0") {
  StunClient c(server, {}, *SocketAddress::parse(local));
  c.setCredentials(name, policy::restPassword(secret, name));
  return c;
}

/// A REST user name valid for an hour: `expiry:user`.
inline std::string restName(const std::string& user, int64_t ttl = 3600) {
  return std::to_string(std::time(nullptr) + ttl) + ":" + user;
}

inline StunClient restClient(const SocketAddress& server, const std::string& secret, const std::string& user,
                             const char* local = "127.0.0.1:0") {
  return restClientNamed(server, secret, restName(user), local);
}

/// The same for a server on 127.0.0.1:`port`.
inline StunClient restClient(uint16_t port, const std::string& secret, const std::string& user) {
  return restClient(SocketAddress{IpAddress::v4(127, 0, 0, 1), port}, secret, user);
}

/// What a shell command printed on stdout, and its exit status.
struct CommandRun {
  int status = -1;
  std::string out;
};

/// Runs `cmd` with /bin/sh (bounded by the command itself) and collects stdout.
inline CommandRun runCommand(const std::string& cmd) {
  CommandRun run;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return run;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) run.out.append(buf, n);
  const int st = pclose(p);
  run.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return run;
}

/// A bearer token file (mode 0600, as admin.token_file needs) in its own
/// temp directory, removed with it.
struct TokenFile {
  std::string dir, path;
  explicit TokenFile(const std::string& token) {
    char tmpl[] = "/tmp/tw-token-XXXXXX";
    dir = mkdtemp(tmpl);
    path = dir + "/admin.token";
    std::ofstream(path) << token << "\n";
    ::chmod(path.c_str(), 0600);
  }
  ~TokenFile() { std::filesystem::remove_all(dir); }
};

inline size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

/// Writes the config, sends SIGHUP and waits (bounded, ~4 s) until the
/// server logged one more `marker` line ("reload ok" or "keeping policy
/// generation").
inline bool reloadWith(ServerProcess& s, const std::string& yaml, const std::string& marker) {
  const size_t before = occurrences(s.log(), marker);
  std::ofstream(s.dir() + "/turnwarden.yaml.tmp") << yaml;
  std::rename((s.dir() + "/turnwarden.yaml.tmp").c_str(), (s.dir() + "/turnwarden.yaml").c_str());
  ::kill(s.pid(), SIGHUP);
  for (int i = 0; i < 400; ++i) {
    if (occurrences(s.log(), marker) > before) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

/// Polls /metrics (folded about once a second) until it contains `line`
/// (bounded, ~5 s).
inline bool metricsShow(const SocketAddress& metrics, const std::string& line) {
  for (int i = 0; i < 50; ++i) {
    auto r = httpGet(metrics, "/metrics");
    if (r && r->body.find(line) != std::string::npos) return true;
    usleep(100000);
  }
  return false;
}

}  // namespace tw::testing
