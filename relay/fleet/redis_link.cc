#include "relay/fleet/redis_link.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>

#include "relay/fleet/redis_handles.h"

namespace tw::fleet {

struct RedisLink::Pending {
  RedisLink* link;
  ReplyFn fn;
  bool counted;
};

namespace {
constexpr auto kBackoffMin = std::chrono::milliseconds(250);
constexpr auto kBackoffMax = std::chrono::seconds(5);
constexpr timeval kWatchPeriod{0, 250000};

timeval toTimeval(tw::Duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return timeval{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
}
}  // namespace

std::string_view replyText(const redisReply* r) {
  if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS && r->type != REDIS_REPLY_ERROR))
    return {};
  return std::string_view(r->str, r->len);
}

bool replyFailed(const redisReply* r) { return !r || r->type == REDIS_REPLY_ERROR; }

std::vector<std::string> replyStrings(const redisReply* r) {
  std::vector<std::string> out;
  if (!r || r->type != REDIS_REPLY_ARRAY) return out;
  out.reserve(r->elements);
  for (size_t i = 0; i < r->elements; ++i) {
    const redisReply* e = r->element[i];
    out.push_back(e->type == REDIS_REPLY_INTEGER ? std::to_string(e->integer) : std::string(replyText(e)));
  }
  return out;
}

RedisLink::RedisLink(event_base* base, const Clock& clock, Random& rng, Logger& log,
                     RedisLinkOptions options, Handlers handlers)
    : base_(base), clock_(clock), rng_(rng), log_(log), options_(std::move(options)),
      handlers_(std::move(handlers)) {
  reconnect_.reset(evtimer_new(base_, &RedisLink::onTimer, this));
  failEvent_.reset(event_new(base_, -1, 0, &RedisLink::onFail, this));
  watch_.reset(event_new(base_, -1, EV_PERSIST, &RedisLink::onWatch, this));
}

RedisLink::~RedisLink() {
  handlers_ = {};  // callbacks fired while freeing must not reach the owner
  state_ = State::Down;
  failing_ = true;
  teardown();
}

void RedisLink::start() {
  event_add(watch_.get(), &kWatchPeriod);
  connect();
}

redisAsyncContext* RedisLink::open() {
  RedisAsyncPtr owned(redisAsyncConnect(options_.host.c_str(), options_.port));
  if (!owned) return nullptr;
  if (owned->err) {
    lastWhy_ = owned->errstr;
    return nullptr;
  }
  // From here hiredis frees it when the connection drops; teardown() frees
  // it otherwise, never from inside a hiredis callback.
  redisAsyncContext* ac = owned.release();
  ac->data = this;
  redisLibeventAttach(ac, base_);
  redisAsyncSetConnectCallback(ac, &RedisLink::onConnect);
  redisAsyncSetDisconnectCallback(ac, &RedisLink::onDisconnect);
  return ac;
}

void RedisLink::connect() {
  state_ = State::Connecting;
  waitingSince_ = clock_.now();
  readySteps_ = 0;
  pending_ = 0;
  failing_ = false;
  cmd_ = open();
  sub_ = cmd_ ? open() : nullptr;
  if (!cmd_ || !sub_) return fail("cannot connect: " + lastWhy_);
  handshake();
}

bool RedisLink::send(redisAsyncContext* ac, const std::vector<std::string>& argv, ReplyFn fn) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& a : argv) args.push_back(a.data()), lens.push_back(a.size());
  auto* p = new Pending{this, std::move(fn), ac == cmd_};
  if (redisAsyncCommandArgv(ac, &RedisLink::onReply, p, int(args.size()), args.data(), lens.data()) !=
      REDIS_OK) {
    delete p;
    return false;
  }
  if (p->counted && pending_++ == 0) waitingSince_ = clock_.now();
  return true;
}

void RedisLink::handshake() {
  // Commands queue until the TCP connection is up; hiredis sends them then.
  auto step = [this](std::string what) {
    return [this, what](const redisReply* r) {
      if (replyFailed(r)) return fail(what + " refused: " + std::string(replyText(r)));
    };
  };
  for (redisAsyncContext* ac : {cmd_, sub_}) {
    if (!options_.password.empty()) send(ac, {"AUTH", options_.password}, step("AUTH"));
  }
  send(cmd_, {"SELECT", std::to_string(options_.db)}, step("SELECT"));
  send(cmd_, {"PING"}, [this](const redisReply* r) {
    if (replyFailed(r)) return fail("PING refused: " + std::string(replyText(r)));
    stepReady();
  });
  const char* argv[] = {"SUBSCRIBE", options_.channel.data()};
  const size_t lens[] = {9, options_.channel.size()};
  redisAsyncCommandArgv(sub_, &RedisLink::onSubscribed, this, 2, argv, lens);
}

void RedisLink::stepReady() {
  if (++readySteps_ < 2 || state_ != State::Connecting) return;
  state_ = State::Up;
  if (wasUp_ || attempts_ > 0) ++reconnects_;
  wasUp_ = true;
  attempts_ = 0;
  lastWhy_.clear();
  log_.info("fleet: connected to Redis at " + options_.host + ":" + std::to_string(options_.port));
  if (handlers_.up) handlers_.up();
}

bool RedisLink::command(const std::vector<std::string>& argv, ReplyFn fn) {
  if (state_ != State::Up || !cmd_) return false;
  return send(cmd_, argv, std::move(fn));
}

void RedisLink::fail(const std::string& why) {
  if (failing_) return;
  failing_ = true;
  const bool wasUp = state_ == State::Up;
  state_ = State::Down;
  if (wasUp || why != lastWhy_)
    log_.warn("fleet: Redis at " + options_.host + ":" + std::to_string(options_.port) +
              " unavailable (" + sanitize(why) + "); retrying with backoff");
  lastWhy_ = why;
  event_active(failEvent_.get(), 0, 0);
  if (wasUp && handlers_.down) handlers_.down(why);
}

void RedisLink::teardown() {
  // Pointers cleared first: the callbacks redisAsyncFree fires see no link.
  RedisAsyncPtr cmd(std::exchange(cmd_, nullptr));
  RedisAsyncPtr sub(std::exchange(sub_, nullptr));
  cmd.reset();
  sub.reset();
  pending_ = 0;
}

void RedisLink::scheduleReconnect() {
  const auto base = std::min<tw::Duration>(kBackoffMin * (1 << std::min(attempts_, 5)), kBackoffMax);
  ++attempts_;
  const auto jitter = base * rng_.below(250) / 1000;  // up to +25%
  const timeval tv = toTimeval(base + jitter);
  event_add(reconnect_.get(), &tv);
}

void RedisLink::watchdog() {
  if (state_ == State::Down) return;
  const bool waiting = state_ == State::Connecting || pending_ > 0;
  if (waiting && clock_.now() - waitingSince_ > options_.timeout)
    fail(state_ == State::Connecting ? "connect timed out" : "no reply in time");
}

void RedisLink::forget(const redisAsyncContext* ac) {
  // hiredis frees `ac` itself after this callback.
  if (ac == cmd_) cmd_ = nullptr;
  if (ac == sub_) sub_ = nullptr;
}

void RedisLink::onConnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisLink*>(ac->data);
  if (status == REDIS_OK || !self) return;
  const std::string why = ac->errstr;
  self->forget(ac);
  self->fail("connect: " + why);
}

void RedisLink::onDisconnect(const redisAsyncContext* ac, int) {
  auto* self = static_cast<RedisLink*>(ac->data);
  if (!self || (ac != self->cmd_ && ac != self->sub_)) return;  // our own teardown
  const std::string why = ac->err ? ac->errstr : "connection closed";
  self->forget(ac);
  self->fail(why);
}

void RedisLink::onReply(redisAsyncContext*, void* reply, void* privdata) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(privdata));
  RedisLink* self = p->link;
  if (p->counted && self->pending_ > 0 && --self->pending_ > 0) self->waitingSince_ = self->clock_.now();
  if (p->fn) p->fn(static_cast<const redisReply*>(reply));
}

void RedisLink::onSubscribed(redisAsyncContext* ac, void* reply, void* privdata) {
  auto* self = static_cast<RedisLink*>(privdata);
  const auto* r = static_cast<const redisReply*>(reply);
  if (!r || ac != self->sub_) return;
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 3) return self->fail("SUBSCRIBE refused");
  const std::string_view kind = replyText(r->element[0]);
  if (kind == "subscribe") return self->stepReady();
  if (kind == "message" && self->handlers_.message && self->state_ == State::Up)
    self->handlers_.message(replyText(r->element[2]));
}

void RedisLink::onTimer(evutil_socket_t, short, void* arg) { static_cast<RedisLink*>(arg)->connect(); }

void RedisLink::onFail(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<RedisLink*>(arg);
  self->teardown();
  self->scheduleReconnect();
}

void RedisLink::onWatch(evutil_socket_t, short, void* arg) { static_cast<RedisLink*>(arg)->watchdog(); }

}  // namespace tw::fleet
