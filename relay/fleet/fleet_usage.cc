// FleetNode (fleet_node.h): usage records to the realm's Redis Stream.
#include <hiredis/hiredis.h>

#include <utility>

#include "relay/fleet/fleet_node.h"

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
    deps_.log.warn("fleet: Redis refused " + std::to_string(failed) +
                   " usage records (XADD " + keys_.usage() + "); they are still in usage.file");
  if (!link_->up()) return;
  std::vector<std::string> batch = stream->take(kUsagePerTick);
  const std::string maxLen = std::to_string(stream->maxLen());
  for (size_t i = 0; i < batch.size(); ++i) {
    const std::vector<std::string> argv{"XADD", keys_.usage(), "MAXLEN", "~", maxLen, "*", "record", batch[i]};
    if (!link_->command(argv, [this](const redisReply* r) {
          if (!r || r->type == REDIS_REPLY_ERROR) ++usageFailed_;
        })) {
      stream->giveBack(std::vector<std::string>(std::make_move_iterator(batch.begin() + std::ptrdiff_t(i)),
                                                std::make_move_iterator(batch.end())));
      return;
    }
  }
}

}  // namespace tw::fleet
