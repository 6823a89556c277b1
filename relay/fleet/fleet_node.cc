// FleetNode (fleet_node.h): lifecycle, the channel's messages, bans.
#include "relay/fleet/fleet_node.h"

#include <hiredis/hiredis.h>

#include "relay/fleet/fleet_scripts.h"

namespace tw::fleet {

namespace {
timeval toTimeval(tw::Duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return timeval{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
}
int64_t millis(tw::Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }
}  // namespace

FleetNode::FleetNode(FleetDeps deps, FleetSettings settings, FleetHost host)
    : deps_(deps),
      settings_(std::move(settings)),
      host_(std::move(host)),
      keys_(settings_.realm),
      timing_(fleet::fleetTiming(settings_.config.heartbeat)) {
  RedisLinkOptions o{settings_.config.redis.host,
                     settings_.config.redis.port,
                     settings_.password,
                     settings_.config.redis.db,
                     keys_.channel(),
                     timing_.redisTimeout};
  link_ = std::make_unique<RedisLink>(
      deps_.base, deps_.clock, deps_.rng, deps_.log, std::move(o),
      RedisLink::Handlers{[this] { onUp(); }, [this](const std::string& why) { onDown(why); },
                          [this](std::string_view m) { onMessage(m); }});
  tick_.reset(event_new(deps_.base, -1, EV_PERSIST, &FleetNode::onTick, this));
  if (!settings_.secretsFile.empty()) copied_ = settings_.seed;  // what the file holds now
  deps_.shared.volume.enableFleet();  // quotas.bytes_per_user counts across the fleet
}

FleetNode::~FleetNode() {
  tick_.reset();
  link_.reset();  // pending replies are answered (nullptr) while every member still exists
}

void FleetNode::start() {
  started_ = deps_.clock.unixSeconds();
  deps_.metrics.setRedisUp(false);
  deps_.metrics.setSynced(false);
  deps_.metrics.setKeyringStale(true);
  noteSelf();
  deps_.log.info("fleet: node " + settings_.nodeId + " of realm " + sanitize(settings_.realm) + ", Redis " +
                 settings_.config.redis.host + ":" + std::to_string(settings_.config.redis.port) +
                 "; not ready for the fleet until the keyring is loaded from Redis (running on the "
                 "local keyring and YAML policy meanwhile)");
  const timeval tv = toTimeval(timing_.tick);
  event_add(tick_.get(), &tv);
  link_->start();
}

void FleetNode::setRotation(const std::optional<policy::RotationConfig>& rotation, int64_t graceSeconds) {
  settings_.rotation = rotation;
  settings_.graceSeconds = graceSeconds;
}

void FleetNode::onUp() {
  deps_.metrics.setRedisUp(true);
  if (link_->reconnects() > 0) deps_.metrics.countReconnect();
  lastBeat_ = deps_.clock.now();
  sentChanges_ = ~0ull;  // the record may have lapsed while we were away
  noteSelf();
  loadKeyring();
  resyncBans();
  writeRecord();
  readFleet();
  renewLease();
}

void FleetNode::onDown(const std::string& why) {
  synced_ = false;
  lease_.lost();
  writing_ = reading_ = false;
  deps_.metrics.setRedisUp(false);
  deps_.metrics.setSynced(false);
  deps_.metrics.setKeyringStale(true);
  deps_.metrics.setLeaseHeld(false);
  noteSelf();
  deps_.log.warn("fleet: lost Redis (" + sanitize(why) + "); relaying and auth go on with the last keyring" +
                 (keyring_ ? " (version " + std::to_string(keyring_->version) + ")" : "") +
                 ", local bans and local quota counts until it returns");
}

void FleetNode::onTick(evutil_socket_t, short, void* arg) { static_cast<FleetNode*>(arg)->tick(); }

void FleetNode::tick() {
  const Instant now = deps_.clock.now();
  flushUsage();  // also while Redis is down: reports what the bounded buffer dropped
  if (!link_->up()) {
    if (fleetCounts_ && now - lastRead_ > timing_.nodeTtl) forgetFleetCounts();
    return;
  }
  publishNewBans();
  syncVolume();
  if (deps_.shared.quotas.changes() != sentChanges_ || now - lastWrite_ >= timing_.heartbeat) writeRecord();
  readFleet();
  if (now - lastBeat_ >= timing_.heartbeat) {
    lastBeat_ = now;
    beat();
  }
}

bool FleetNode::eval(const char* script, std::vector<std::string> keys, std::vector<std::string> args,
                     RedisLink::ReplyFn fn) {
  std::vector<std::string> argv{"EVAL", script, std::to_string(keys.size())};
  argv.insert(argv.end(), std::make_move_iterator(keys.begin()), std::make_move_iterator(keys.end()));
  argv.insert(argv.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
  return link_->command(argv, std::move(fn));
}

void FleetNode::onMessage(std::string_view text) {
  auto m = fleet::parseFleetMessage(text);
  if (!m) {
    deps_.metrics.countRefused("message");
    deps_.log.warn("fleet: refused a malformed message: \"" + sanitize(text) + "\"");
    return;
  }
  deps_.metrics.countMessage(toString(m->op));
  apply(*m);
}

void FleetNode::apply(const fleet::FleetMessage& m) {
  const bool mine = m.origin == settings_.nodeId;
  switch (m.op) {
    case fleet::FleetOp::Keyring:
      if (!keyring_ || m.version != keyring_->version) loadKeyring();
      return;
    case fleet::FleetOp::Ban:
      if (!mine)
        deps_.shared.bans.impose(*m.source, deps_.clock.now(),
                                 deps_.clock.now() + std::chrono::milliseconds(m.ttlMs));
      return;
    case fleet::FleetOp::Unban:
      deps_.shared.bans.lift(*m.ip);
      deps_.log.info("fleet: ban of " + m.ip->toString() + " lifted (from " + m.origin + ")");
      return;
    case fleet::FleetOp::EndUser: {
      const size_t n = host_.endUser(m.user);
      deps_.log.info("fleet: ended " + std::to_string(n) + " allocation(s) of user \"" + sanitize(m.user) +
                     "\" (from " + m.origin + ")");
      return;
    }
    case fleet::FleetOp::Reload:
      deps_.log.info("fleet: reload (from " + m.origin + ")");
      return host_.reload();
    case fleet::FleetOp::Drain:
      deps_.log.info("fleet: drain (from " + m.origin + ")");
      return host_.drain();
  }
}

void FleetNode::publish(fleet::FleetMessage m, Done done) {
  m.origin = settings_.nodeId;
  const bool sent =
      link_->command({"PUBLISH", keys_.channel(), fleet::formatFleetMessage(m)}, [done](const redisReply* r) {
        if (replyFailed(r)) return done(err(std::string("Redis did not take it")));
        done(std::to_string(r->integer));  // nodes that heard it
      });
  if (!sent) done(err(std::string("Redis is unreachable")));
}

void FleetNode::liftBan(const IpAddress& ip, Done done) {
  deps_.shared.bans.lift(ip);
  // Bans are per IP and port; lifting an IP ends the bans of all its ports.
  if (!eval(fleet_scripts::kBanLift, {}, {keys_.banPattern(ip)}, nullptr))
    return done(err(std::string("Redis is unreachable")));
  fleet::FleetMessage m;
  m.op = fleet::FleetOp::Unban;
  m.ip = ip;
  publish(std::move(m), std::move(done));
}

void FleetNode::publishNewBans() {
  const Instant now = deps_.clock.now();
  for (const auto& b : deps_.shared.bans.takeNewBans()) {
    const int64_t ttl = millis(b.until - now);
    if (ttl < 1) continue;
    const SocketAddress source{b.ip, b.port};
    link_->command({"SET", keys_.ban(source), settings_.nodeId, "PX", std::to_string(ttl)}, nullptr);
    fleet::FleetMessage m;
    m.op = fleet::FleetOp::Ban;
    m.origin = settings_.nodeId;
    m.source = source;
    m.ttlMs = ttl;
    link_->command({"PUBLISH", keys_.channel(), fleet::formatFleetMessage(m)}, nullptr);
  }
}

void FleetNode::resyncBans() {
  eval(fleet_scripts::kBanScan, {}, {keys_.banPattern()}, [this](const redisReply* r) {
    const auto flat = replyStrings(r);
    const Instant now = deps_.clock.now();
    size_t imposed = 0, bad = 0;
    for (size_t i = 0; i + 1 < flat.size(); i += 2) {
      auto source = flat[i].size() > keys_.banPrefixSize()
                        ? SocketAddress::parse(std::string_view(flat[i]).substr(keys_.banPrefixSize()))
                        : std::nullopt;
      const int64_t ttl = std::atoll(flat[i + 1].c_str());
      if (!source || ttl < 1) {
        ++bad;
        continue;
      }
      deps_.shared.bans.impose(*source, now, now + std::chrono::milliseconds(ttl));
      ++imposed;
    }
    if (bad) deps_.metrics.countRefused("ban", bad);
    if (imposed) deps_.log.info("fleet: " + std::to_string(imposed) + " fleet ban(s) in force here");
  });
}

}  // namespace tw::fleet
