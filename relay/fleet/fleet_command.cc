// The CLI's side of fleet mode (docs/fleet.md): `turnwarden rotate` and
// `turnwarden credential` act on the fleet keyring in Redis when the config
// has fleet:, and `turnwarden fleet status` lists the nodes. One short-lived
// blocking hiredis connection (a CLI has no event loop to share), with a
// timeout; commands are argv arrays like the server's.
#include <hiredis/hiredis.h>

#include <cstdio>
#include <memory>

#include "relay/fleet/fleet_keys.h"
#include "relay/fleet/fleet_state.h"
#include "policy/secrets_file.h"
#include "relay/fleet/fleet_command.h"
#include "relay/fleet/fleet_scripts.h"
#include "relay/fleet/redis_handles.h"
#include "relay/base/clock.h"
#include "relay/base/random.h"

namespace tw::fleet {

namespace {

using ReplyPtr = RedisReplyPtr;

class SyncRedis {
 public:
  static Result<SyncRedis, std::string> connect(const policy::FleetConfig& fc) {
    const timeval tv{2, 0};
    SyncRedis r;
    r.ctx_.reset(redisConnectWithTimeout(fc.redis.host.c_str(), fc.redis.port, tv));
    if (!r.ctx_ || r.ctx_->err)
      return err("cannot reach Redis at " + fc.redis.host + ":" + std::to_string(fc.redis.port) + ": " +
                 (r.ctx_ ? r.ctx_->errstr : "out of memory"));
    redisSetTimeout(r.ctx_.get(), tv);
    if (!fc.redis.passwordFile.empty()) {
      auto pw = policy::readFleetPassword(fc.redis.passwordFile);
      if (!pw) return err("fleet.redis.password_file " + pw.error());
      if (auto a = r.run({"AUTH", *pw}); !a || a->type == REDIS_REPLY_ERROR)
        return err(std::string("Redis refused AUTH"));
    }
    if (auto s = r.run({"SELECT", std::to_string(fc.redis.db)}); !s || s->type == REDIS_REPLY_ERROR)
      return err(std::string("Redis refused SELECT"));
    return r;
  }

  ReplyPtr run(const std::vector<std::string>& argv) {
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (const auto& a : argv) args.push_back(a.data()), lens.push_back(a.size());
    return ReplyPtr(static_cast<redisReply*>(
        redisCommandArgv(ctx_.get(), int(args.size()), args.data(), lens.data())));
  }

  ReplyPtr eval(const char* script, const std::vector<std::string>& keys, const std::vector<std::string>& args) {
    std::vector<std::string> argv{"EVAL", script, std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }

 private:
  RedisContextPtr ctx_;
};

std::vector<std::string> strings(const redisReply* r) {
  std::vector<std::string> out;
  if (!r || r->type != REDIS_REPLY_ARRAY) return out;
  for (size_t i = 0; i < r->elements; ++i) out.emplace_back(r->element[i]->str ? r->element[i]->str : "",
                                                            r->element[i]->str ? r->element[i]->len : 0);
  return out;
}

/// The fleet keyring in Redis; nullopt when there is none yet.
Result<std::optional<fleet::FleetKeyring>, std::string> readKeyring(SyncRedis& redis,
                                                                     const fleet::FleetKeys& keys) {
  auto r = redis.run({"HGETALL", keys.keyring()});
  if (!r || r->type != REDIS_REPLY_ARRAY) return err(std::string("Redis did not answer HGETALL"));
  return fleet::parseFleetKeyring(strings(r.get()), SystemClock().unixSeconds());
}

/// Compare-and-set; the new version, or -1 when another writer came first.
int64_t casKeyring(SyncRedis& redis, const fleet::FleetKeys& keys, int64_t expected,
                   const std::vector<policy::Secret>& secrets, int64_t rotatedAt) {
  auto yaml = policy::renderKeyringText(secrets, "fleet keyring");
  if (!yaml) return -1;
  auto r = redis.eval(fleet_scripts::kKeyringCas, {keys.keyring(), keys.channel()},
                      {std::to_string(expected), *yaml, std::to_string(rotatedAt), "cli"});
  return r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
}

}  // namespace

int fleetRotateCommand(const policy::Config& cfg) {
  auto redis = SyncRedis::connect(*cfg.fleet);
  if (!redis) return std::fprintf(stderr, "turnwarden: %s\n", redis.error().c_str()), 2;
  const fleet::FleetKeys keys(cfg.realm);
  const int64_t grace = policy::rotationGraceSeconds(cfg.auth.rotation, cfg.auth.maxTtlSeconds);
  CsprngRandom rng;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto current = readKeyring(*redis, keys);
    if (!current) return std::fprintf(stderr, "turnwarden: fleet keyring refused: %s\n", current.error().c_str()), 2;
    const int64_t now = SystemClock().unixSeconds();
    fleet::FleetKeyring base = current->value_or(fleet::FleetKeyring{cfg.auth.secrets, 0, now});
    if (base.secrets.empty())
      return std::fprintf(stderr, "turnwarden: the fleet keyring is empty and there is no local one to seed it\n"), 2;
    auto change = fleet::planKeyringChange(base, cfg.auth.rotation, grace, now, rng, true);
    const int64_t v = casKeyring(*redis, keys, base.version, change->secrets, now);
    if (v < 0) continue;  // someone wrote meanwhile: rotate what is there now
    std::printf("rotated the fleet keyring of realm %s (version %lld): new secret %s mints; previous "
                "secrets verify until %lld\n",
                cfg.realm.c_str(), static_cast<long long>(v), change->secrets.front().id.c_str(),
                static_cast<long long>(now + grace));
    return 0;
  }
  std::fprintf(stderr, "turnwarden: the fleet keyring kept changing; try again\n");
  return 2;
}

std::vector<policy::Secret> fleetSecretsForCli(const policy::Config& cfg) {
  auto redis = SyncRedis::connect(*cfg.fleet);
  auto k = redis ? readKeyring(*redis, fleet::FleetKeys(cfg.realm))
                 : Result<std::optional<fleet::FleetKeyring>, std::string>(err(redis.error()));
  if (k && *k) return (*k)->secrets;
  std::fprintf(stderr, "turnwarden: warning: fleet keyring unavailable (%s); using the local copy %s\n",
               k ? "none in Redis yet" : k.error().c_str(), cfg.auth.secretsFile.c_str());
  return cfg.auth.secrets;
}

int fleetStatusCommand(const policy::Config& cfg) {
  auto redis = SyncRedis::connect(*cfg.fleet);
  if (!redis) return std::fprintf(stderr, "turnwarden: %s\n", redis.error().c_str()), 2;
  const fleet::FleetKeys keys(cfg.realm);
  auto ring = readKeyring(*redis, keys);
  auto lease = redis->run({"GET", keys.lease()});
  auto read = redis->eval(fleet_scripts::kFleetRead, {keys.nodes()}, {keys.node("")});
  std::printf("realm %s, Redis %s:%u db %d\n", cfg.realm.c_str(), cfg.fleet->redis.host.c_str(),
              cfg.fleet->redis.port, cfg.fleet->redis.db);
  if (ring && *ring) std::printf("keyring version %lld, minting %s, %zu secret(s)\n",
                                 static_cast<long long>((*ring)->version), (*ring)->secrets.front().id.c_str(),
                                 (*ring)->secrets.size());
  else std::printf("keyring: %s\n", ring ? "none yet" : ring.error().c_str());
  std::printf("rotation lease: %s\n", lease && lease->type == REDIS_REPLY_STRING ? lease->str : "free");
  std::printf("%-24s %-6s %-9s %12s %14s  %s\n", "NODE", "READY", "DRAINING", "ALLOCATIONS", "RESERVED_BPS",
              "ADDRESSES");
  size_t n = 0;
  for (size_t i = 0; read && read->type == REDIS_REPLY_ARRAY && i + 1 < read->elements; i += 2, ++n) {
    const std::string id(read->element[i]->str ? read->element[i]->str : "");
    auto rec = fleet::parseNodeRecord(id, strings(read->element[i + 1]));
    std::printf("%-24s %-6s %-9s %12llu %14llu  %s\n", id.c_str(), rec.info.ready ? "yes" : "no",
                rec.info.draining ? "yes" : "no", static_cast<unsigned long long>(rec.info.allocations),
                static_cast<unsigned long long>(rec.info.bps), rec.info.addresses.c_str());
  }
  std::printf("%zu live node(s)\n", n);
  return 0;
}

}  // namespace tw::fleet
