#include "metrics/anomaly.h"

#include "relay/turn/allocation.h"

namespace tw::metrics {

std::string_view toString(AnomalyKind k) {
  switch (k) {
    case AnomalyKind::BruteForce:
      return "brute_force";
    case AnomalyKind::RelayScan:
      return "relay_scan";
    case AnomalyKind::BandwidthSpike:
      return "bandwidth_spike";
    case AnomalyKind::TotalBandwidth:
      return "total_bandwidth";
    case AnomalyKind::AllocationChurn:
      return "allocation_churn";
    case AnomalyKind::DeniedPeerBurst:
      return "denied_peer_burst";
    case AnomalyKind::CredentialSharing:
      return "credential_sharing";
    case AnomalyKind::kCount:
      break;
  }
  return "unknown";
}

void AnomalyDetector::fire(Anomaly a) {
  // anomalies.scan_revoke: a relay scan from a known allocation ends it.
  if (a.kind == AnomalyKind::RelayScan && config_.scanRevoke && a.allocationId != 0)
    a.action = AnomalyAction::EndAllocation;
  sink_(a);
}

namespace {

std::string bps(double v) { return std::to_string(uint64_t(v)) + " bit/s"; }

}  // namespace

template <class K>
bool WindowCounter<K>::add(const K& key, Instant now, Duration window, uint32_t threshold, uint32_t& count) {
  if (threshold == 0) return false;
  Entry* e = entries_.current(key, now, window);
  if (!e) return false;
  count = ++e->count;
  return count == threshold;
}

template <class K, class V>
bool DistinctCounter<K, V>::claim(const K& key, Instant now, Duration window) {
  Entry* e = entries_.current(key, now, window);
  if (!e || e->fired) return false;
  e->fired = true;
  return true;
}

template <class K, class V>
bool DistinctCounter<K, V>::add(const K& key, const V& value, Instant now, Duration window,
                                uint32_t threshold, size_t& distinct) {
  if (threshold == 0) return false;
  Entry* found = entries_.current(key, now, window);
  if (!found) return false;
  Entry& e = *found;
  if (e.values.size() <= threshold) e.values.insert(value);  // no need to keep more
  distinct = e.values.size();
  if (e.fired || distinct < threshold) return false;
  e.fired = true;
  return true;
}

std::string AnomalyDetector::withinWindow(uint64_t n, std::string_view what, Duration window) const {
  return std::to_string(n) + " " + std::string(what) + " within " +
         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(window).count()) + "s";
}

void AnomalyDetector::onAuthFailed(std::string_view, const FiveTuple& t, std::string_view user) {
  uint32_t n = 0;
  if (authFailures_.add(t.client.ip, clock_.now(), config_.window, config_.bruteForceFailures, n))
    fire({AnomalyKind::BruteForce, std::string(user), t.client.ip.toString(), "",
          withinWindow(n, "failed authentications", config_.window)});
}

void AnomalyDetector::onAllocationCreated(const turn::Allocation& a) {
  churn(a);
  size_t n = 0;
  // Threshold is "more than sharing_ips": the (N+1)-th distinct IP fires.
  if (sharing_.add(a.user, a.tuple.client.ip, clock_.now(), config_.sharingWindow,
                   config_.sharingIps == 0 ? 0 : config_.sharingIps + 1, n))
    fire({AnomalyKind::CredentialSharing, a.user, a.tuple.client.ip.toString(), "",
          withinWindow(n, "distinct client IPs for one user", config_.sharingWindow)});
}

void AnomalyDetector::onAllocationDeleted(const turn::Allocation& a, std::string_view why) {
  if (why != "shutdown") churn(a);
  rates_.erase(a.id);
}

void AnomalyDetector::churn(const turn::Allocation& a) {
  uint32_t n = 0;
  if (churn_.add(a.tuple.client.ip, clock_.now(), config_.window, config_.churnAllocations, n))
    fire({AnomalyKind::AllocationChurn, a.user, a.tuple.client.ip.toString(), "",
          withinWindow(n, "allocations created or deleted", config_.window)});
}

void AnomalyDetector::onPeerDenied(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                                   std::string_view user) {
  uint32_t n = 0;
  if (denied_.add(std::string(user), clock_.now(), config_.window, config_.deniedPeerBurst, n))
    fire({AnomalyKind::DeniedPeerBurst, std::string(user), t.client.ip.toString(), peer.toString(),
          withinWindow(n, "denied peers (last rule " + std::string(rule) + ")", config_.window)});
  scanPeer(t.client, peer, user, 0);
}

void AnomalyDetector::scanPeer(const SocketAddress& client, const SocketAddress& peer, std::string_view user,
                               uint64_t allocationId) {
  size_t n = 0;
  if (scan_.add(client, peer, clock_.now(), config_.window, config_.scanDistinctPeers, n))
    fire({AnomalyKind::RelayScan, std::string(user), client.ip.toString(), peer.toString(),
          withinWindow(n, "distinct peers from one allocation", config_.window), allocationId});
}

void AnomalyDetector::onConnectAttempt(const turn::Allocation& a, const SocketAddress& peer) {
  scanPeer(a.tuple.client, peer, a.user, a.id);
}

std::vector<AllocationSample> sampleAllocations(turn::AllocationTable& table, SendTargets& sends,
                                                const policy::AnomaliesConfig& config, Instant now) {
  std::vector<AllocationSample> out;
  out.reserve(table.size());
  table.forEach([&](turn::Allocation& a) {
    AllocationSample s{a.id, a.user, a.tuple.client, a.bytesToPeer + a.bytesToClient, {}, 0, {}};
    s.peers.reserve(a.permissions.size() + a.channels.size());
    for (const auto& p : a.permissions) s.peers.push_back(SocketAddress{p.peer, 0});
    for (const auto& c : a.channels) s.peers.push_back(c.peer);
    s.sendDistinct = sends.take(a.id, config.scanDistinctPeers, config.window, now, s.sendLast);
    out.push_back(std::move(s));
  });
  return out;
}

void AnomalyDetector::sendScan(const AllocationSample& a, Instant now) {
  if (a.sendDistinct == 0) return;
  // One relay_scan per allocation and window, whichever count gets there first.
  if (scan_.claim(a.client, now, config_.window))
    fire({AnomalyKind::RelayScan, a.user, a.client.ip.toString(), a.sendLast.toString(),
          withinWindow(a.sendDistinct, "distinct Send destinations from one allocation", config_.window),
          a.id});
}

void AnomalyDetector::sample(uint32_t worker, const std::vector<AllocationSample>& allocations) {
  const Instant now = clock_.now();
  double mine = 0;
  for (const AllocationSample& a : allocations) {
    for (const auto& p : a.peers) scanPeer(a.client, p, a.user, a.id);
    sendScan(a, now);
    bandwidth(a, now, mine);
  }
  workerBps_[worker] = mine;
  double total = 0;
  for (const auto& [w, bps] : workerBps_) total += bps;
  if (config_.totalBps > 0 && total > double(config_.totalBps) &&
      (totalFiredAt_ == Instant{} || now - totalFiredAt_ >= config_.window)) {
    totalFiredAt_ = now;
    fire({AnomalyKind::TotalBandwidth, "", "", "",
          "relayed " + bps(total) + " > total_bps " + bps(double(config_.totalBps))});
  }
}

void AnomalyDetector::bandwidth(const AllocationSample& a, Instant now, double& totalBps) {
  Rate& r = rates_[a.id];
  const uint64_t bytes = a.bytes;
  const double secs = std::chrono::duration<double>(now - r.at).count();
  if (r.at == Instant{} || secs <= 0) {
    r = Rate{bytes, now, 0, false, {}};
    return;
  }
  const double rate = double(bytes - r.bytes) * 8 / secs;
  totalBps += rate;
  const bool spike = r.primed && rate > config_.spikeFactor * r.ewmaBps && rate > double(config_.spikeMinBps);
  const bool over = config_.maxBps > 0 && rate > double(config_.maxBps);
  const bool quiet = r.firedAt != Instant{} && now - r.firedAt < config_.window;
  if ((spike || over) && !quiet) {
    r.firedAt = now;
    fire({AnomalyKind::BandwidthSpike, a.user, a.client.ip.toString(), "",
          bps(rate) +
              (over ? " > max_bps " + bps(double(config_.maxBps)) : " vs its average " + bps(r.ewmaBps)),
          a.id});
  }
  // EWMA with alpha 0.2: about the last 5 samples (seconds).
  r.ewmaBps = r.primed ? 0.8 * r.ewmaBps + 0.2 * rate : rate;
  r.primed = true;
  r.bytes = bytes;
  r.at = now;
}

}  // namespace tw::metrics
