// FleetNode (fleet_node.h): usage records to the realm's Redis Stream.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <utility>

#include "relay/fleet/fleet_node.h"
#include "relay/fleet/fleet_scripts.h"

namespace tw::fleet {

namespace {
/// Records sent per tick at most: a backlog drains over a few ticks instead
/// of one burst of commands on the control loop.
constexpr size_t kUsagePerTick = 2000;
}  // namespace

void FleetNode::flushUsage() {
  UsageStream* stream = deps_.usage;
  if (!stream) return;
  if (const uint64_t lost = stream->takeDropped())
    deps_.log.warn("fleet: " + std::to_string(lost) +
                   " usage records dropped: Redis was unreachable and usage.redis_buffer was full "
                   "(they are still in usage.file)");
  if (const uint64_t failed = std::exchange(usageFailed_, 0))
    deps_.log.warn("fleet: Redis refused " + std::to_string(failed) + " usage records (XADD " +
                   keys_.usage() + "); they are still in usage.file");
  if (!link_->up()) return;
  std::vector<std::string> batch = stream->take(kUsagePerTick);
  const std::string maxLen = std::to_string(stream->maxLen());
  for (size_t i = 0; i < batch.size(); ++i) {
    const std::vector<std::string> argv{"XADD", keys_.usage(), "MAXLEN", "~",
                                        maxLen, "*",           "record", batch[i]};
    if (!link_->command(argv, [this](const redisReply* r) {
          if (!r || r->type == REDIS_REPLY_ERROR) ++usageFailed_;
        })) {
      stream->giveBack(std::vector<std::string>(std::make_move_iterator(batch.begin() + std::ptrdiff_t(i)),
                                                std::make_move_iterator(batch.end())));
      return;
    }
  }
}

void FleetNode::syncVolume() {
  // New charges every tick; once a second also a re-read of every user this
  // node charged in the window, whose totals other nodes may have raised.
  const Instant now = deps_.clock.now();
  const bool everyUser = now - lastVolumeRead_ >= std::chrono::seconds(1);
  turn::VolumeBatch batch = deps_.shared.volume.takeUnsent(everyUser);
  if (everyUser) lastVolumeRead_ = now;
  if (batch.charges.empty()) return;
  std::vector<std::string> args{std::to_string(2 * batch.windowSeconds)};
  for (const auto& c : batch.charges) {
    args.push_back(c.user);
    args.push_back(std::to_string(c.bytes));
  }
  auto done = [this, batch](const redisReply* r) {
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != batch.charges.size()) {
      // Not counted in the fleet (Redis lost or refused): sent again next tick.
      // A reply lost with the connection may have been applied: counted twice, never lost.
      deps_.shared.volume.giveBack(batch);
      return;
    }
    std::vector<turn::VolumeCharge> totals;
    for (size_t i = 0; i < r->elements; ++i)
      if (r->element[i]->type == REDIS_REPLY_INTEGER)
        totals.push_back({batch.charges[i].user, uint64_t(std::max<long long>(0, r->element[i]->integer))});
    deps_.shared.volume.setFleetTotals(batch.window, totals);
  };
  if (!eval(fleet_scripts::kVolumeAdd, {keys_.volume(batch.windowSeconds, batch.window)}, std::move(args),
            done))
    deps_.shared.volume.giveBack(batch);
}

}  // namespace tw::fleet
