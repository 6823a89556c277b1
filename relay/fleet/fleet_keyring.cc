// FleetNode (fleet_node.h): the fleet keyring, the rotation lease, rotation.
// Every write of the keyring is a compare-and-set on its version
// (fleet_scripts::kKeyringCas), one atomic Redis step from a complete valid
// keyring to the next: a writer killed at any point leaves the old keyring
// or the new one, never a partial one, and a concurrent writer's secret is
// never overwritten. The lease only decides who runs auth.rotation.
#include <hiredis/hiredis.h>

#include "policy/secrets_file.h"
#include "relay/fleet/fleet_node.h"
#include "relay/fleet/fleet_scripts.h"

namespace tw::fleet {

namespace {
std::string ids(const std::vector<policy::Secret>& secrets) {
  std::string out;
  for (const auto& s : secrets) out += (out.empty() ? "" : " ") + s.id;
  return out;
}
bool same(const std::vector<policy::Secret>& a, const std::vector<policy::Secret>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].id != b[i].id || a[i].value != b[i].value || a[i].notAfter != b[i].notAfter) return false;
  return true;
}
}  // namespace

void FleetNode::beat() {
  renewLease();
  loadKeyring();  // the safety net under pub/sub
  if (!lease_.held(deps_.clock.now()) || !keyring_) return;
  auto change = fleet::planKeyringChange(*keyring_, settings_.rotation, settings_.graceSeconds,
                                         deps_.clock.unixSeconds(), deps_.rng, false);
  if (!change) return;
  const int64_t rotatedAt = change->rotated ? deps_.clock.unixSeconds() : keyring_->rotatedAt;
  const std::string why = change->rotated ? "rotated (interval, lease holder)" : "pruned (grace ended)";
  writeKeyring(keyring_->version, std::move(change->secrets), rotatedAt, [this, why](int64_t v) {
    if (v < 0) loadKeyring();  // someone else wrote first: take theirs
  });
}

void FleetNode::renewLease() {
  const Instant sent = deps_.clock.now();
  const int64_t ttlMs = std::chrono::duration_cast<std::chrono::milliseconds>(timing_.leaseTtl).count();
  eval(fleet_scripts::kLease, {keys_.lease()}, {settings_.nodeId, std::to_string(ttlMs)},
       [this, sent](const redisReply* r) {
         const bool was = lease_.held(deps_.clock.now());
         if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1)
           lease_.granted(sent, timing_.leaseTtl);
         else
           lease_.lost();
         const bool is = lease_.held(deps_.clock.now());
         deps_.metrics.setLeaseHeld(is);
         if (is != was)
           deps_.log.info(std::string("fleet: ") + (is ? "took" : "no longer holds") + " the rotation lease");
       });
}

void FleetNode::loadKeyring() {
  link_->command({"HGETALL", keys_.keyring()}, [this](const redisReply* r) {
    if (!r || r->type != REDIS_REPLY_ARRAY) return;
    auto parsed = fleet::parseFleetKeyring(replyStrings(r), deps_.clock.unixSeconds());
    if (!parsed) {
      const auto flat = replyStrings(r);
      int64_t v = -2;
      for (size_t i = 0; i + 1 < flat.size(); i += 2)
        if (flat[i] == "version") v = std::atoll(flat[i + 1].c_str());
      if (v != refusedVersion_) {
        refusedVersion_ = v;
        deps_.metrics.countRefused("keyring");
        deps_.log.error("fleet: refused the keyring in Redis, keeping the current one: " +
                        sanitize(parsed.error(), 400));
      }
      return;
    }
    if (!*parsed) {
      // A new Redis, or one that restarted empty: seed it with the keyring in
      // force here (the local one at first start, the last fleet one after).
      const auto& seed = keyring_ ? keyring_->secrets : settings_.seed;
      deps_.log.info("fleet: the fleet keyring is empty: seeding it with this node's keyring (" + ids(seed) +
                     ")");
      return writeKeyring(0, seed, keyring_ ? keyring_->rotatedAt : settings_.seedRotatedAt,
                          [this](int64_t v) {
                            if (v < 0) loadKeyring();
                          });
    }
    adopt(std::move(**parsed), "loaded from Redis");
  });
}

void FleetNode::adopt(fleet::FleetKeyring k, const std::string& why) {
  // Any difference counts, a lower version too: replies on the command
  // connection come in order, so this is what Redis holds now, and a Redis
  // that restarted empty (or was flushed) was re-seeded at version 1.
  const bool fresh = !keyring_ || k.version != keyring_->version || !same(k.secrets, keyring_->secrets);
  if (!synced_) {
    synced_ = true;
    deps_.metrics.setSynced(true);
    deps_.metrics.setKeyringStale(false);
    deps_.log.info("fleet: ready: keyring version " + std::to_string(k.version) + " from Redis");
  }
  if (!fresh) return noteSelf();
  keyring_ = std::move(k);
  deps_.metrics.setKeyringVersion(keyring_->version);
  noteSelf();
  host_.keyring(keyring_->secrets, "fleet keyring version " + std::to_string(keyring_->version) + " " + why);
  if (settings_.secretsFile.empty() || same(keyring_->secrets, copied_)) return;
  if (auto st = policy::writeSecretsFile(settings_.secretsFile, keyring_->secrets); !st)
    return deps_.log.error("fleet: cannot keep the local keyring copy: " + st.error());
  copied_ = keyring_->secrets;
}

void FleetNode::writeKeyring(int64_t expected, std::vector<policy::Secret> secrets, int64_t rotatedAt,
                             std::function<void(int64_t)> then) {
  auto yaml = policy::renderKeyringText(secrets, "fleet keyring");
  if (!yaml) {
    deps_.log.error("fleet: refusing to write the keyring: " + yaml.error());
    return then(-1);
  }
  const bool sent =
      eval(fleet_scripts::kKeyringCas, {keys_.keyring(), keys_.channel()},
           {std::to_string(expected), *yaml, std::to_string(rotatedAt), settings_.nodeId},
           [this, secrets = std::move(secrets), rotatedAt, then](const redisReply* r) mutable {
             if (!r || r->type != REDIS_REPLY_INTEGER) return then(-1);
             if (r->integer > 0)
               adopt(fleet::FleetKeyring{std::move(secrets), r->integer, rotatedAt}, "written here");
             then(r->integer);
           });
  if (!sent) then(-1);
}

void FleetNode::rotate(const std::string& why, Done done) {
  if (!link_->up())
    return done(err(std::string("Redis is unreachable: the fleet keyring cannot be rotated now")));
  rotateAttempt(3, why, std::move(done));
}

void FleetNode::rotateAttempt(int left, const std::string& why, Done done) {
  // Read fresh (not the cached copy): the rotation builds on what Redis holds.
  const bool sent =
      link_->command({"HGETALL", keys_.keyring()}, [this, left, why, done](const redisReply* r) {
        if (!r || r->type != REDIS_REPLY_ARRAY) return done(err(std::string("Redis did not answer")));
        auto parsed = fleet::parseFleetKeyring(replyStrings(r), deps_.clock.unixSeconds());
        if (!parsed || !*parsed)
          return done(err(std::string("the fleet keyring in Redis is missing or invalid")));
        auto change = fleet::planKeyringChange(**parsed, settings_.rotation, settings_.graceSeconds,
                                               deps_.clock.unixSeconds(), deps_.rng, true);
        const std::string id = change->secrets.front().id;
        writeKeyring((*parsed)->version, std::move(change->secrets), deps_.clock.unixSeconds(),
                     [this, left, why, done, id](int64_t v) {
                       if (v > 0) {
                         deps_.log.info("fleet: keyring rotated (" + why + "): " + id + " mints");
                         return done(id);
                       }
                       if (left > 1 && link_->up()) return rotateAttempt(left - 1, why, done);
                       done(err(std::string("the fleet keyring kept changing; try again")));
                     });
      });
  if (!sent) done(err(std::string("Redis is unreachable")));
}

}  // namespace tw::fleet
