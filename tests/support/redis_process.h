#pragma once
// A real redis-server for fleet tests: loopback only, a temp directory, no
// persistence (--save '' --appendonly no), on a free TCP port that a
// restart reuses. Plus a blocking hiredis client for assertions.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tw::testing {

/// A TCP port on 127.0.0.1 that nothing listens on right now.
uint16_t freeTcpPort();

class RedisProcess {
 public:
  /// Picks a port and starts; a non-empty `password` is required from
  /// every client (requirepass), command() included.
  explicit RedisProcess(std::string password = "");
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  /// Starts (again) on the same port; true once it answers PING.
  bool start();
  /// SIGKILL and reap: the data is gone (no persistence).
  void kill();
  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  /// "127.0.0.1:PORT"
  std::string address() const;
  /// The temp directory (redis.log is in it); removed with the process.
  const std::string& dir() const { return dir_; }

  /// One command (argv) on a fresh connection; the reply flattened: a
  /// string, an integer as text, an array's elements (nested arrays
  /// flattened), nullopt when Redis cannot be reached or answers an error.
  std::optional<std::vector<std::string>> command(const std::vector<std::string>& argv) const;

 private:
  std::string password_;
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace tw::testing
