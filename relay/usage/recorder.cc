#include "relay/usage/recorder.h"

#include <chrono>

namespace tw::usage {

Traffic trafficOf(const turn::Allocation& a) {
  return {a.bytesToPeer, a.bytesToClient, a.packetsToPeer, a.packetsToClient};
}

UsageRecord buildRecord(const turn::Allocation& a, const RecordNaming& naming, uint32_t seq,
                        const Traffic& previous, int64_t periodStart, int64_t unixNow) {
  UsageRecord r;
  r.recordId = naming.node + "-" + std::to_string(naming.boot) + "-" + std::to_string(a.id) + "-" +
               std::to_string(seq);
  r.node = naming.node;
  r.allocationId = a.id;
  r.seq = seq;
  r.realm = a.realm;
  r.user = a.user;
  r.username = a.username;
  r.client = a.tuple.client.toString();
  r.transport = std::string(toString(a.tuple.transport));
  r.relayed.push_back(a.advertised.toString());
  if (a.relay2 != turn::kNoRelay) r.relayed.push_back(a.advertised2.toString());
  r.periodStart = periodStart;
  r.periodEnd = unixNow;
  r.total = trafficOf(a);
  r.period = r.total - previous;
  r.peers = a.peersGranted;
  r.channels = a.channelsBound;
  return r;
}

int64_t UsageRecorder::startOf(const turn::Allocation& a) const {
  const auto age = std::chrono::duration_cast<std::chrono::seconds>(clock_.now() - a.created);
  return clock_.unixSeconds() - age.count();
}

void UsageRecorder::onAllocationCreated(const turn::Allocation& a) { last_[a.id] = Last{0, {}, startOf(a)}; }

void UsageRecorder::onUsageInterval(const turn::Allocation& a) { emit(a, {}, false); }

void UsageRecorder::onAllocationDeleted(const turn::Allocation& a, std::string_view why) {
  emit(a, why, true);
  last_.erase(a.id);
}

void UsageRecorder::emit(const turn::Allocation& a, std::string_view endReason, bool final) {
  auto [it, fresh] = last_.try_emplace(a.id);
  Last& last = it->second;
  if (fresh) last.at = startOf(a);  // created before this sink existed
  const int64_t now = clock_.unixSeconds();
  UsageRecord r = buildRecord(a, naming_, last.seq, last.traffic, last.at, now);
  r.start = startOf(a);
  r.final = final;
  r.endReason = std::string(endReason);
  sink_.put(r);
  last = Last{last.seq + 1, r.total, now};
}

}  // namespace tw::usage
