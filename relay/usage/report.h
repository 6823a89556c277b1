#pragma once
// `turnwarden usage` (docs/usage.md): sums usage records by user, realm or
// client prefix. Each record counts with its own period's traffic, so an
// allocation's interim records and its final one add up to its totals and a
// --since cut bills only the periods that ended after it. A line that is not
// a record is reported with its line number and skipped.
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/usage/record.h"

namespace tw::usage {

enum class GroupBy { User, Realm, ClientPrefix };
enum class ReportFormat { Table, Json, Csv };

struct ReportOptions {
  GroupBy by = GroupBy::User;
  /// Only records whose period ended at or after this (Unix seconds).
  std::optional<int64_t> since;
  size_t top = 20;  ///< rows kept, most bytes first; 0: all
};

struct ReportRow {
  std::string key;
  Traffic traffic;
  uint64_t allocations = 0;  ///< distinct allocations with a record in range
  uint64_t records = 0;
};

struct LineProblem {
  size_t line = 0;
  std::string error;
};

struct Report {
  GroupBy by = GroupBy::User;
  std::vector<ReportRow> rows;  ///< most bytes first, at most `top`
  uint64_t records = 0;         ///< records counted (after --since)
  std::vector<LineProblem> problems;
};

/// The group a record falls in: its user, its realm, or its client's /24
/// (IPv4) or /48 (IPv6) prefix.
std::string groupKey(const UsageRecord& r, GroupBy by);
Report summarize(std::istream& in, const ReportOptions& options);

/// The same, a line at a time (the Redis Stream, page by page): memory is per
/// group and allocation, not per record.
class Summarizer {
 public:
  explicit Summarizer(ReportOptions options);
  ~Summarizer();
  /// The next line (numbered from 1 in the order given).
  void add(std::string_view line);
  Report finish();

 private:
  struct Groups;
  ReportOptions options_;
  Report report_;
  size_t line_ = 0;
  std::unique_ptr<Groups> groups_;
};
std::string render(const Report& report, ReportFormat format);

}  // namespace tw::usage
