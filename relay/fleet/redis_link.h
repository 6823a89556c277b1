#pragma once
// The fleet's Redis connection on the server's event loop (docs/fleet.md):
// hiredis's async API with its libevent adapter, so Redis I/O never blocks
// the loop. Two connections: one for commands, one subscribed to the
// realm's channel (a subscribed connection takes no other commands).
//
// Commands go out only as argv arrays (redisAsyncCommandArgv): a user name,
// realm or address is one binary-safe argument and can never be parsed as
// part of a command (coturn GHSA-4g7c-p5wg-j4hp was exactly that).
//
// hiredis 0.14 has no timeouts of its own: a watchdog drops the connections
// when connecting or a reply takes longer than `timeout`, and a lost
// connection is retried with exponential backoff (250 ms doubling to 5 s,
// with jitter so a fleet does not reconnect in step).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/clock.h"
#include "relay/base/log.h"
#include "relay/base/random.h"
#include "relay/io/handles.h"

struct redisAsyncContext;
struct redisReply;

namespace tw::fleet {

struct RedisLinkOptions {
  std::string host;
  uint16_t port = 6379;
  std::string password;  ///< empty: no AUTH
  int db = 0;
  std::string channel;  ///< subscribed on the second connection
  tw::Duration timeout = std::chrono::seconds(2);
};

class RedisLink {
 public:
  /// nullptr: no answer (the connection was lost before it came).
  using ReplyFn = std::function<void(const redisReply*)>;
  struct Handlers {
    std::function<void()> up;                       ///< both connections ready
    std::function<void(const std::string&)> down;   ///< was up, now lost (why)
    std::function<void(std::string_view)> message;  ///< a message on the channel
  };

  RedisLink(event_base* base, const Clock& clock, Random& rng, Logger& log, RedisLinkOptions options,
            Handlers handlers);
  ~RedisLink();
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  /// Connects now and keeps reconnecting until destroyed.
  void start();
  bool up() const { return state_ == State::Up; }
  /// Sends `argv` on the command connection; false (and `fn` never called)
  /// when the link is not up.
  bool command(const std::vector<std::string>& argv, ReplyFn fn);
  uint64_t reconnects() const { return reconnects_; }

 private:
  enum class State { Down, Connecting, Up };
  struct Pending;

  void connect();
  redisAsyncContext* open();
  bool send(redisAsyncContext* ac, const std::vector<std::string>& argv, ReplyFn fn);
  void handshake();
  void stepReady();
  /// Records why and frees both connections on the next loop turn (never
  /// inside a hiredis callback), then schedules a reconnect.
  void fail(const std::string& why);
  void teardown();
  void scheduleReconnect();
  void watchdog();
  void forget(const redisAsyncContext* ac);

  static void onConnect(const redisAsyncContext* ac, int status);
  static void onDisconnect(const redisAsyncContext* ac, int status);
  static void onReply(redisAsyncContext* ac, void* reply, void* privdata);
  static void onSubscribed(redisAsyncContext* ac, void* reply, void* privdata);
  static void onTimer(evutil_socket_t, short, void* arg);
  static void onFail(evutil_socket_t, short, void* arg);
  static void onWatch(evutil_socket_t, short, void* arg);

  event_base* base_;
  const Clock& clock_;
  Random& rng_;
  Logger& log_;
  RedisLinkOptions options_;
  Handlers handlers_;
  State state_ = State::Down;
  redisAsyncContext* cmd_ = nullptr;
  redisAsyncContext* sub_ = nullptr;
  int readySteps_ = 0;      ///< command side and subscription side
  size_t pending_ = 0;      ///< replies awaited on the command connection
  Instant waitingSince_{};  ///< connect start, or the oldest unanswered moment
  bool wasUp_ = false;
  bool failing_ = false;
  int attempts_ = 0;
  uint64_t reconnects_ = 0;
  std::string lastWhy_;
  io::EventPtr reconnect_;
  io::EventPtr failEvent_;
  io::EventPtr watch_;
};

/// The reply's string (status, string or error), or "" for other types.
std::string_view replyText(const redisReply* r);
/// True for an error reply or no reply at all.
bool replyFailed(const redisReply* r);
/// The elements of an array reply as strings (integers printed); empty
/// for anything else.
std::vector<std::string> replyStrings(const redisReply* r);

}  // namespace tw::fleet
