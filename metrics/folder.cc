#include "metrics/folder.h"

#include <prometheus/text_serializer.h>

#include <sstream>

#include "policy/credentials.h"
#include "relay/turn/quota_book.h"

namespace tw::metrics {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Registry;

template <class B>
auto& make(B builder, Registry& r, const std::string& name, const std::string& help) {
  return builder.Name("turnwarden_" + name).Help(help).Register(r);
}

Family<Counter>& counter(Registry& r, const std::string& name, const std::string& help) {
  return make(BuildCounter(), r, name, help);
}
Family<Gauge>& gauge(Registry& r, const std::string& name, const std::string& help) {
  return make(BuildGauge(), r, name, help);
}
Family<Histogram>& histogram(Registry& r, const std::string& name, const std::string& help) {
  return make(BuildHistogram(), r, name, help);
}

template <size_t N>
Histogram::BucketBoundaries boundaries(const std::array<double, N>& bounds) {
  return Histogram::BucketBoundaries(bounds.begin(), bounds.end());
}

template <class K>
uint64_t before(const std::map<K, uint64_t>& m, const K& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

/// Growth of a monotonic count; 0 if it went backwards (never expected).
double growth(uint64_t now, uint64_t then) { return now > then ? double(now - then) : 0.0; }

constexpr std::array<std::string_view, 2> kDirections{"client_to_peer", "peer_to_client"};
/// Labels of relayed_{bytes,packets}_total for RelayedCounts[d][t].
prometheus::Labels relayedLabels(size_t d, size_t t) {
  return {{"direction", std::string(kDirections[d])}, {"transport", std::string(toString(Transport(t)))}};
}

}  // namespace

struct MetricsFolder::Families {
  explicit Families(Registry& r)
      : build(gauge(r, "build_info", "Always 1; the version label says which build runs.")),
        allocActive(gauge(r, "allocations_active", "Live allocations.")),
        allocTotal(counter(r, "allocations_total", "Allocate requests by outcome.")),
        lifetime(histogram(r, "allocation_lifetime_seconds", "How long ended allocations lived.")),
        permissions(gauge(r, "permissions_active", "Installed permissions.")),
        channels(gauge(r, "channels_active", "Bound channels.")),
        requests(counter(r, "requests_total", "STUN/TURN requests by method and answer.")),
        duration(histogram(r, "request_duration_seconds", "Time a request spent in the pipeline.")),
        bytes(counter(r, "relayed_bytes_total", "Payload bytes relayed.")),
        packets(counter(r, "relayed_packets_total", "Payload packets relayed.")),
        dropped(counter(r, "packets_dropped_total", "Packets dropped without an answer.")),
        denied(counter(r, "peer_denied_total", "Peers refused, by the rule that matched.")),
        auth(counter(r, "auth_failures_total", "Failed authentications by reason.")),
        rateLimited(counter(r, "rate_limited_total", "Rate limit hits by kind.")),
        bansActive(gauge(r, "bans_active", "Client IPs banned right now.")),
        bans(counter(r, "bans_total", "Bans issued.")),
        quota(counter(r, "quota_rejections_total", "Requests refused by a quota.")),
        volumeLimited(counter(r, "volume_limited_total",
                              "Allocations stopped because their user went over quotas.bytes_per_user.")),
        rotations(counter(r, "secret_rotations_total", "REST secret rotations.")),
        secretAge(gauge(r, "secret_age_seconds", "Age of the REST secret that mints.")),
        reloads(counter(r, "config_reloads_total", "Config reloads by result.")),
        lastReload(gauge(r, "config_last_reload_success_timestamp_seconds",
                         "Unix time of the last successful config load.")),
        portsInUse(gauge(r, "relay_ports_in_use", "Relay ports leased.")),
        portsCapacity(gauge(r, "relay_ports_capacity", "Relay ports configured.")),
        tcp(gauge(r, "tcp_connections_active", "Open client connections (DTLS: sessions) by listener kind.")),
        tcpRelay(gauge(r, "tcp_relay_connections_active",
                       "TCP relay (RFC 6062) peer connections, pending or joined to a client.")),
        anomalies(counter(r, "anomalies_total", "Anomalies detected by kind.")),
        eventsDropped(counter(r, "security_events_dropped_total",
                              "Security events dropped because the queue was full.")) {}

  Family<Gauge>& build;
  Family<Gauge>& allocActive;
  Family<Counter>& allocTotal;
  Family<Histogram>& lifetime;
  Family<Gauge>& permissions;
  Family<Gauge>& channels;
  Family<Counter>& requests;
  Family<Histogram>& duration;
  Family<Counter>& bytes;
  Family<Counter>& packets;
  Family<Counter>& dropped;
  Family<Counter>& denied;
  Family<Counter>& auth;
  Family<Counter>& rateLimited;
  Family<Gauge>& bansActive;
  Family<Counter>& bans;
  Family<Counter>& quota;
  Family<Counter>& volumeLimited;
  Family<Counter>& rotations;
  Family<Gauge>& secretAge;
  Family<Counter>& reloads;
  Family<Gauge>& lastReload;
  Family<Gauge>& portsInUse;
  Family<Gauge>& portsCapacity;
  Family<Gauge>& tcp;
  Family<Gauge>& tcpRelay;
  Family<Counter>& anomalies;
  Family<Counter>& eventsDropped;
};

MetricsFolder::MetricsFolder(std::string_view version)
    : registry_(std::make_shared<Registry>()), f_(std::make_unique<Families>(*registry_)) {
  f_->build.Add({{"version", std::string(version)}}).Set(1);
  // Series that exist from the start, so rate() and alerts see a 0 first.
  for (size_t i = 0; i < size_t(turn::DropReason::kCount); ++i)
    f_->dropped.Add({{"reason", std::string(turn::toString(turn::DropReason(i)))}});
  for (int i = 0; i <= int(policy::AuthFailure::Blocked); ++i)
    f_->auth.Add({{"reason", std::string(policy::toString(policy::AuthFailure(i)))}});
  for (size_t d = 0; d < kDirections.size(); ++d)
    for (size_t t = 0; t < turn::kTransportCount; ++t) {
      f_->bytes.Add(relayedLabels(d, t));
      f_->packets.Add(relayedLabels(d, t));
    }
  for (auto r : {"success", "failure"}) f_->reloads.Add({{"result", r}});
  f_->allocActive.Add({{"transport", "udp"}, {"family", "ipv4"}});
  for (size_t k = 0; k < size_t(turn::RateLimitKind::kCount); ++k)
    f_->rateLimited.Add({{"kind", std::string(turn::toString(turn::RateLimitKind(k)))}});
  for (auto* g : {&f_->permissions, &f_->channels, &f_->bansActive, &f_->secretAge, &f_->lastReload,
                  &f_->portsInUse, &f_->portsCapacity})
    g->Add({});
  for (auto* c : {&f_->bans, &f_->rotations, &f_->eventsDropped, &f_->volumeLimited}) c->Add({});
  for (auto t : {Transport::Tcp, Transport::Tls, Transport::Dtls})
    f_->tcp.Add({{"listener", std::string(toString(t))}});
  f_->tcpRelay.Add({});
  for (size_t k = 0; k < size_t(AnomalyKind::kCount); ++k)
    f_->anomalies.Add({{"kind", std::string(toString(AnomalyKind(k)))}});
  for (auto r : kAllocationResults)
    f_->allocTotal.Add({{"transport", std::string(toString(Transport::Udp))}, {"result", std::string(r)}});
  // The 486 reason codes of the quota book.
  for (size_t q = 0; q < size_t(turn::QuotaRefusal::kCount); ++q)
    f_->quota.Add({{"quota", std::string(turn::toString(turn::QuotaRefusal(q)))}});
}

MetricsFolder::~MetricsFolder() = default;

void MetricsFolder::fold(size_t worker, const WorkerSnapshot& snapshot) {
  std::lock_guard lock(mu_);
  const WorkerSnapshot& then = last_[worker];
  foldCounters(snapshot, then);
  foldStats(snapshot.stats, then.stats);
  foldHistograms(snapshot.stats, then.stats);
  last_[worker] = snapshot;
  setGauges();
}

void MetricsFolder::foldCounters(const WorkerSnapshot& now, const WorkerSnapshot& then) {
  const auto& c = now.counters;
  const auto& p = then.counters;
  for (size_t d = 0; d < kDirections.size(); ++d)
    for (size_t t = 0; t < turn::kTransportCount; ++t) {
      const prometheus::Labels l = relayedLabels(d, t);
      f_->bytes.Add(l).Increment(growth(c.relayedBytes[d][t], p.relayedBytes[d][t]));
      f_->packets.Add(l).Increment(growth(c.relayedPackets[d][t], p.relayedPackets[d][t]));
    }
  for (size_t i = 0; i < c.drops.size(); ++i)
    f_->dropped.Add({{"reason", std::string(turn::toString(turn::DropReason(i)))}})
        .Increment(growth(c.drops[i], p.drops[i]));
  for (size_t k = 0; k < c.rateLimited.size(); ++k)
    f_->rateLimited.Add({{"kind", std::string(turn::toString(turn::RateLimitKind(k)))}})
        .Increment(growth(c.rateLimited[k], p.rateLimited[k]));
}

void MetricsFolder::foldStats(const WorkerStats& now, const WorkerStats& then) {
  for (const auto& [k, v] : now.requests)
    f_->requests.Add({{"method", k.first}, {"result_code", k.second}})
        .Increment(growth(v, before(then.requests, k)));
  for (const auto& [k, v] : now.allocations)
    f_->allocTotal.Add({{"transport", k.first}, {"result", k.second}})
        .Increment(growth(v, before(then.allocations, k)));
  for (const auto& [k, v] : now.authFailures)
    f_->auth.Add({{"reason", k}}).Increment(growth(v, before(then.authFailures, k)));
  for (const auto& [k, v] : now.peerDenied)
    f_->denied.Add({{"rule", k}}).Increment(growth(v, before(then.peerDenied, k)));
  f_->bans.Add({}).Increment(growth(now.bans, then.bans));
  f_->volumeLimited.Add({}).Increment(growth(now.volumeLimited, then.volumeLimited));
  for (const auto& [k, v] : now.quotaRejections)
    f_->quota.Add({{"quota", k}}).Increment(growth(v, before(then.quotaRejections, k)));
}

namespace {
template <size_t N>
void foldHistogram(Histogram& h, const Buckets<N>& now, const Buckets<N>& then) {
  if (now.count <= then.count) return;
  std::vector<double> inc(N + 1);
  for (size_t i = 0; i <= N; ++i) inc[i] = growth(now.counts[i], then.counts[i]);
  h.ObserveMultiple(inc, now.sum - then.sum);
}
}  // namespace

void MetricsFolder::foldHistograms(const WorkerStats& now, const WorkerStats& then) {
  for (const auto& [method, b] : now.durations) {
    auto it = then.durations.find(method);
    auto& h = f_->duration.Add({{"method", method}}, boundaries(kRequestBounds));
    foldHistogram(h, b, it == then.durations.end() ? RequestBuckets{} : it->second);
  }
  foldHistogram(f_->lifetime.Add({}, boundaries(kLifetimeBounds)), now.lifetimes, then.lifetimes);
}

void MetricsFolder::setGauges() {
  std::map<std::string, uint64_t> allocations;
  uint64_t permissions = 0, channels = 0;
  for (const auto& [w, s] : last_) {
    for (const auto& [k, v] : s.gauges.allocations) allocations[k] += v;
    permissions += s.gauges.permissions;
    channels += s.gauges.channels;
  }
  // Series seen before but now at zero must read 0, not keep their last value.
  for (auto& [k, v] : allocActiveSeen_) v = 0;
  for (const auto& [k, v] : allocations) allocActiveSeen_[k] = v;
  for (const auto& [k, v] : allocActiveSeen_) {
    const auto bar = k.find('|');
    f_->allocActive.Add({{"transport", k.substr(0, bar)}, {"family", k.substr(bar + 1)}}).Set(double(v));
  }
  f_->permissions.Add({}).Set(double(permissions));
  f_->channels.Add({}).Set(double(channels));
}

void MetricsFolder::setPorts(uint64_t inUse, uint64_t capacity) {
  f_->portsInUse.Add({}).Set(double(inUse));
  f_->portsCapacity.Add({}).Set(double(capacity));
}

void MetricsFolder::recordReload(bool ok, int64_t unixNow) {
  f_->reloads.Add({{"result", ok ? "success" : "failure"}}).Increment();
  if (ok) f_->lastReload.Add({}).Set(double(unixNow));
}

void MetricsFolder::recordRotation() { f_->rotations.Add({}).Increment(); }
void MetricsFolder::setSecretAge(double seconds) { f_->secretAge.Add({}).Set(seconds); }
void MetricsFolder::setBansActive(uint64_t n) { f_->bansActive.Add({}).Set(double(n)); }
void MetricsFolder::recordBan() { f_->bans.Add({}).Increment(); }
void MetricsFolder::recordEventDropped() { f_->eventsDropped.Add({}).Increment(); }

void MetricsFolder::recordAnomaly(AnomalyKind kind) {
  f_->anomalies.Add({{"kind", std::string(toString(kind))}}).Increment();
}

void MetricsFolder::recordRateLimited(std::string_view kind) {
  f_->rateLimited.Add({{"kind", std::string(kind)}}).Increment();
}

void MetricsFolder::setTcpConnections(Transport listener, uint64_t n) {
  f_->tcp.Add({{"listener", std::string(toString(listener))}}).Set(double(n));
}

void MetricsFolder::setTcpRelayConnections(uint64_t n) { f_->tcpRelay.Add({}).Set(double(n)); }

std::string MetricsFolder::render() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace tw::metrics
