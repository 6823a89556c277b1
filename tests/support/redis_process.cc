#include "tests/support/redis_process.h"

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "relay/base/handle.h"

namespace tw::testing {

uint16_t freeTcpPort() {
  const UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  uint16_t port = 0;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  return port;
}

RedisProcess::RedisProcess(std::string password) : password_(std::move(password)) {
  char tmpl[] = "/tmp/turnwarden-redis-XXXXXX";
  dir_ = mkdtemp(tmpl);
  port_ = freeTcpPort();
  start();
}

RedisProcess::~RedisProcess() {
  kill();
  const std::string cmd = "rm -rf '" + dir_ + "'";
  if (std::system(cmd.c_str()) != 0) return;
}

std::string RedisProcess::address() const { return "127.0.0.1:" + std::to_string(port_); }

bool RedisProcess::start() {
  if (pid_ > 0) return true;
  pid_ = fork();
  if (pid_ == 0) {
    const std::string port = std::to_string(port_);
    const std::string log = dir_ + "/redis.log";
    std::vector<const char*> argv{"redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--dir",
                                  dir_.c_str(), "--save", "", "--appendonly", "no", "--logfile", log.c_str()};
    if (!password_.empty()) argv.insert(argv.end(), {"--requirepass", password_.c_str()});
    argv.push_back(nullptr);
    execvp("redis-server", const_cast<char* const*>(argv.data()));
    _exit(127);
  }
  for (int i = 0; i < 200; ++i) {
    auto pong = command({"PING"});
    if (pong && !pong->empty() && pong->front() == "PONG") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

void RedisProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int st;
  waitpid(pid_, &st, 0);
  pid_ = -1;
}

namespace {
void flatten(const redisReply* r, std::vector<std::string>& out) {
  if (r->type == REDIS_REPLY_ARRAY) {
    for (size_t i = 0; i < r->elements; ++i) flatten(r->element[i], out);
  } else if (r->type == REDIS_REPLY_INTEGER) {
    out.push_back(std::to_string(r->integer));
  } else if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
    out.emplace_back(r->str, r->len);
  }
}
}  // namespace

std::optional<std::vector<std::string>> RedisProcess::command(const std::vector<std::string>& argv) const {
  const timeval tv{1, 0};
  const Handle<redisContext, redisFree> c(redisConnectWithTimeout("127.0.0.1", port_, tv));
  if (!c || c->err) return std::nullopt;
  redisSetTimeout(c.get(), tv);
  if (!password_.empty()) {
    const char* auth[] = {"AUTH", password_.c_str()};
    const size_t lens[] = {4, password_.size()};
    const Handle<redisReply, freeReplyObject> r(static_cast<redisReply*>(redisCommandArgv(c.get(), 2, auth, lens)));
    if (!r || r->type == REDIS_REPLY_ERROR) return std::nullopt;
  }
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& a : argv) args.push_back(a.data()), lens.push_back(a.size());
  const Handle<redisReply, freeReplyObject> r(
      static_cast<redisReply*>(redisCommandArgv(c.get(), int(args.size()), args.data(), lens.data())));
  std::optional<std::vector<std::string>> out;
  if (r && r->type != REDIS_REPLY_ERROR) {
    out.emplace();
    flatten(r.get(), *out);
  }
  return out;
}

}  // namespace tw::testing
