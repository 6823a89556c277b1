#include "relay/usage/usage_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>

namespace tw::usage {

struct UsageMetrics::Impl {
  explicit Impl(prometheus::Registry& r)
      : top(prometheus::BuildGauge()
                .Name("turnwarden_usage_top_user_bytes")
                .Help("Bytes relayed by the top users over the last usage interval, by rank.")
                .Register(r)),
        records(prometheus::BuildCounter()
                    .Name("turnwarden_usage_records_total")
                    .Help("Usage records queued for the usage file.")
                    .Register(r)
                    .Add({})),
        dropped(prometheus::BuildCounter()
                    .Name("turnwarden_usage_records_dropped_total")
                    .Help("Usage records dropped because the writer's queue was full.")
                    .Register(r)
                    .Add({})) {}
  prometheus::Family<prometheus::Gauge>& top;
  std::vector<prometheus::Gauge*> shown;  // the series of the last setTop
  prometheus::Counter& records;
  prometheus::Counter& dropped;
  uint64_t written = 0, lost = 0;
};

UsageMetrics::UsageMetrics(prometheus::Registry& registry) : impl_(std::make_unique<Impl>(registry)) {}
UsageMetrics::~UsageMetrics() = default;

void UsageMetrics::setTop(const std::vector<UserBytes>& top) {
  for (auto* g : impl_->shown) impl_->top.Remove(g);
  impl_->shown.clear();
  for (size_t i = 0; i < top.size(); ++i) {
    auto& g = impl_->top.Add({{"rank", std::to_string(i + 1)}, {"user", top[i].first}});
    g.Set(double(top[i].second));
    impl_->shown.push_back(&g);
  }
}

void UsageMetrics::setRecords(uint64_t written, uint64_t dropped) {
  if (written > impl_->written) impl_->records.Increment(double(written - impl_->written));
  if (dropped > impl_->lost) impl_->dropped.Increment(double(dropped - impl_->lost));
  impl_->written = written;
  impl_->lost = dropped;
}

}  // namespace tw::usage
