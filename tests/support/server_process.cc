#include "tests/support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "relay/base/random.h"
#include "relay/io/udp_socket.h"

namespace tw::testing {

std::string udpListenerYaml(std::string_view realm, uint16_t port) {
  // Two workers: every live test crosses workers (SO_REUSEPORT spreads
  // clients, allocations live on the worker that made them).
  return "realm: " + std::string(realm) + "\nworkers: 2" +
         "\nlisteners:\n  - {transport: udp, address: 127.0.0.1, port: " + std::to_string(port) + "}\n";
}

uint16_t freeUdpPort() {
  CsprngRandom rng;
  for (int i = 0; i < 100; ++i) {
    const uint16_t port = static_cast<uint16_t>(20000 + rng.below(20000));
    if (io::openUdpSocket(SocketAddress{IpAddress::v4(127, 0, 0, 1), port}, false)) return port;
  }
  return 0;
}

std::optional<SocketAddress> servedAddress(const std::string& log, const std::string& what) {
  std::smatch m;
  const std::regex re(what + ": serving http://([0-9.]+:[0-9]+)/");
  if (!std::regex_search(log, m, re)) return std::nullopt;
  return SocketAddress::parse(m[1].str());
}

ServerProcess::ServerProcess(const std::string& configYaml) {
  char tmpl[] = "/tmp/turnwarden-test-XXXXXX";
  dir_ = mkdtemp(tmpl);
  std::ofstream(dir_ + "/turnwarden.yaml") << configYaml;
  pid_ = fork();
  if (pid_ == 0) {
    const int fd = open((dir_ + "/server.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    execl(TW_BINARY, TW_BINARY, "--config", (dir_ + "/turnwarden.yaml").c_str(), nullptr);
    _exit(127);
  }
  for (int i = 0; i < 200 && !ready_ && alive(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    ready_ = log().find("turnwarden ready") != std::string::npos;
  }
}

ServerProcess::~ServerProcess() {
  stop();
  std::string cmd = "rm -rf '" + dir_ + "'";
  if (std::system(cmd.c_str()) != 0) return;
}

bool ServerProcess::alive() const {
  if (pid_ <= 0) return false;
  int st;
  return waitpid(pid_, &st, WNOHANG) == 0;
}

int ServerProcess::stop() {
  if (pid_ <= 0) return status_;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    int st;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      pid_ = -1;
      return status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return status_;
}

std::string ServerProcess::log() const {
  std::ifstream in(dir_ + "/server.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace tw::testing
