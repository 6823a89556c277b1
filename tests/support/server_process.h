#pragma once
// Runs the real turnwarden binary for a test: writes the config to a temp
// dir, starts the process, waits for its "turnwarden ready" line, and on
// destruction sends SIGTERM and records how it exited.
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "relay/base/address.h"

namespace tw::testing {

/// The head every live-binary test config starts with: its realm, two
/// workers, and one UDP listener on 127.0.0.1:port. Callers append the
/// other sections.
std::string udpListenerYaml(std::string_view realm, uint16_t port);

/// A UDP port on 127.0.0.1 that nothing is bound to right now.
uint16_t freeUdpPort();

/// The address an HTTP listener logged at start-up ("<what>: serving
/// http://A/..."; what = "metrics" or "admin"), for listeners on port 0.
std::optional<SocketAddress> servedAddress(const std::string& log, const std::string& what);

class ServerProcess {
 public:
  /// `configYaml` is written to <tmp>/turnwarden.yaml.
  explicit ServerProcess(const std::string& configYaml);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool ready() const { return ready_; }
  bool alive() const;
  /// Sends SIGTERM and waits (bounded); returns the exit status or -1.
  int stop();
  std::string log() const;
  const std::string& dir() const { return dir_; }
  /// The server's process id (for SIGHUP reload tests); -1 once stopped.
  pid_t pid() const { return pid_; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  bool ready_ = false;
  int status_ = -1;
};

}  // namespace tw::testing
