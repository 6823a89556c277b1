// turnwarden usage --from FILE [--since 7d] [--by ...] [--top N] [--format ...]
#include <charconv>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "policy/duration.h"
#include "relay/app/cli.h"
#include "relay/app/setup.h"
#include "relay/fleet/fleet_command.h"
#include "relay/usage/report.h"

namespace tw::app {

namespace {

/// The report's options from the command line, or the message for the bad one.
Result<usage::ReportOptions, std::string> reportOptions(const CliArgs& args) {
  usage::ReportOptions o;
  if (args.by == "user")
    o.by = usage::GroupBy::User;
  else if (args.by == "realm")
    o.by = usage::GroupBy::Realm;
  else if (args.by == "client-prefix")
    o.by = usage::GroupBy::ClientPrefix;
  else
    return err("--by must be user, realm or client-prefix, got " + args.by);
  auto [end, ec] = std::from_chars(args.top.data(), args.top.data() + args.top.size(), o.top);
  if (ec != std::errc{} || end != args.top.data() + args.top.size())
    return err("--top must be a number (0: every row), got " + args.top);
  if (!args.since.empty()) {
    auto d = policy::parseDuration(args.since);
    if (!d) return err("--since must be a duration like 7d, 12h or 30m, got " + args.since);
    o.since = int64_t(std::time(nullptr)) - std::chrono::duration_cast<std::chrono::seconds>(*d).count();
  }
  return o;
}

Result<usage::ReportFormat, std::string> reportFormat(const std::string& f) {
  if (f == "table") return usage::ReportFormat::Table;
  if (f == "json") return usage::ReportFormat::Json;
  if (f == "csv") return usage::ReportFormat::Csv;
  return err("--format must be table, json or csv, got " + f);
}

/// The report over the realm's Redis Stream (fleet mode), read page by page.
Result<usage::Report, std::string> reportFromStream(const CliArgs& args, const usage::ReportOptions& o) {
  auto cfg = loadOrReport(args.config);
  if (!cfg) return err("cannot load " + args.config);
  usage::Summarizer s(o);
  if (auto read = fleet::readUsageStream(*cfg, [&](std::string_view r) { s.add(r); }); !read)
    return err(read.error());
  return s.finish();
}

}  // namespace

int usageCommand(const CliArgs& args) {
  auto options = reportOptions(args);
  auto format = reportFormat(args.format);
  if (!options || !format) {
    std::fprintf(stderr, "turnwarden usage: %s\n", (!options ? options.error() : format.error()).c_str());
    return 64;
  }
  usage::Report report;
  if (args.fleet) {
    auto fleetReport = reportFromStream(args, *options);
    if (!fleetReport) {
      std::fprintf(stderr, "turnwarden usage: %s\n", fleetReport.error().c_str());
      return 2;
    }
    report = std::move(*fleetReport);
  } else {
    std::ifstream in(args.from);
    if (!in) {
      std::fprintf(stderr, "turnwarden usage: cannot read %s\n", args.from.c_str());
      return 2;
    }
    report = usage::summarize(in, *options);
  }
  const std::string source = args.fleet ? "usage stream, record" : args.from;
  for (const auto& p : report.problems)
    std::fprintf(stderr, "%s:%zu: not a usage record: %s\n", source.c_str(), p.line, p.error.c_str());
  const std::string out = usage::render(report, *format);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return report.problems.empty() ? 0 : 1;
}

}  // namespace tw::app
