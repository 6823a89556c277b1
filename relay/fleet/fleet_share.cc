// FleetNode (fleet_node.h): this node's registry record and quota share,
// and the fleet-wide sums. Each node rewrites its own hash whole (with a TTL
// of 1.5 heartbeats) when its counts change and at least every heartbeat;
// every tick it reads the records of all live nodes in one script call and
// gives the QuotaBook the sum over the others. A node that dies stops
// counting when its record's TTL lapses: no count leaks forever.
#include <hiredis/hiredis.h>

#include <algorithm>

#include "relay/fleet/fleet_node.h"
#include "relay/fleet/fleet_scripts.h"

namespace tw::fleet {

void FleetNode::noteSelf() {
  std::lock_guard lock(nodesMu_);
  self_ = {settings_.nodeId, link_->up(), synced_, keyring_ ? keyring_->version : 0};
}

void FleetNode::writeRecord() {
  if (writing_) return;  // one write in flight at a time
  fleet::NodeInfo info = host_.describe();
  info.id = settings_.nodeId;
  info.version = settings_.version;
  info.started = started_;
  info.seen = deps_.clock.unixSeconds();
  info.leaseHolder = lease_.held(deps_.clock.now());
  const uint64_t changes = deps_.shared.quotas.changes();
  auto fields = fleet::encodeNodeRecord(info, deps_.shared.quotas.localCounts());
  const int64_t ttlMs = std::chrono::duration_cast<std::chrono::milliseconds>(timing_.nodeTtl).count();
  std::vector<std::string> args{std::to_string(ttlMs), settings_.nodeId};
  args.insert(args.end(), std::make_move_iterator(fields.begin()), std::make_move_iterator(fields.end()));
  writing_ = eval(fleet_scripts::kNodeWrite, {keys_.node(settings_.nodeId), keys_.nodes()}, std::move(args),
                  [this, changes](const redisReply* r) {
                    writing_ = false;
                    if (replyFailed(r)) return;
                    sentChanges_ = changes;
                  });
  if (writing_) lastWrite_ = deps_.clock.now();
}

void FleetNode::readFleet() {
  if (reading_) return;
  reading_ = eval(fleet_scripts::kFleetRead, {keys_.nodes()}, {keys_.node("")}, [this](const redisReply* r) {
    reading_ = false;
    if (!r || r->type != REDIS_REPLY_ARRAY) return;
    std::vector<fleet::NodeRecord> records;
    size_t bad = 0;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
      const std::string id(replyText(r->element[i]));
      if (policy::checkNodeId(id)) {
        ++bad;
        continue;
      }
      records.push_back(fleet::parseNodeRecord(id, replyStrings(r->element[i + 1])));
      bad += records.back().badFields;
    }
    if (bad) deps_.metrics.countRefused("node_field", bad);
    deps_.shared.quotas.setFleetCounts(fleet::sumOtherNodes(records, settings_.nodeId));
    fleetCounts_ = true;
    lastRead_ = deps_.clock.now();
    std::vector<fleet::NodeInfo> nodes;
    for (auto& rec : records) nodes.push_back(std::move(rec.info));
    std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    deps_.metrics.setNodes(nodes.size());
    std::lock_guard lock(nodesMu_);
    nodes_ = std::move(nodes);
  });
}

void FleetNode::forgetFleetCounts() {
  // Redis has been away as long as a node record lives: the counts we hold
  // may belong to nodes that died since. Each node enforces its own alone.
  deps_.shared.quotas.setFleetCounts({});
  fleetCounts_ = false;
  deps_.log.warn(
      "fleet: Redis away for more than 1.5 heartbeats: per_user/per_ip quotas now count "
      "this node's allocations only");
}

std::string FleetNode::nodesJson() const {
  std::lock_guard lock(nodesMu_);
  return fleet::nodesJson(self_, nodes_);
}

}  // namespace tw::fleet
