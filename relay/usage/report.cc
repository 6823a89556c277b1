#include "relay/usage/report.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "relay/base/address.h"
#include "relay/base/json.h"

namespace tw::usage {

namespace {

std::string prefixOf(const std::string& client) {
  auto addr = SocketAddress::parse(client);
  if (!addr) return client;
  std::array<uint8_t, 16> b = addr->ip.bytes();
  if (addr->ip.isV4()) return IpAddress::v4(b[0], b[1], b[2], 0).toString() + "/24";
  std::fill(b.begin() + 6, b.end(), uint8_t{0});
  return IpAddress::v6(b).toString() + "/48";
}

/// The allocation a record belongs to: its id without the sequence number.
std::string allocationOf(const UsageRecord& r) { return r.recordId.substr(0, r.recordId.rfind('-')); }

struct Group {
  ReportRow row;
  std::set<std::string> allocations;
};

std::vector<ReportRow> ranked(std::map<std::string, Group>& groups, size_t top) {
  std::vector<ReportRow> rows;
  for (auto& [key, g] : groups) {
    g.row.key = key;
    g.row.allocations = g.allocations.size();
    rows.push_back(std::move(g.row));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const ReportRow& a, const ReportRow& b) {
    return a.traffic.bytes() > b.traffic.bytes();
  });
  if (top != 0 && rows.size() > top) rows.resize(top);
  return rows;
}

const char* groupName(GroupBy by) {
  return by == GroupBy::User ? "user" : by == GroupBy::Realm ? "realm" : "client_prefix";
}

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string numbers(const ReportRow& r, const char* sep) {
  const Traffic& t = r.traffic;
  std::string out;
  for (uint64_t v : {t.bytes(), t.bytesToPeer, t.bytesToClient, t.packetsToPeer, t.packetsToClient,
                     r.allocations, r.records})
    out += sep + std::to_string(v);
  return out;
}

std::string renderJson(const Report& rep) {
  std::string out = "{\"by\":\"" + std::string(groupName(rep.by)) +
                    "\",\"records\":" + std::to_string(rep.records) + ",\"rows\":[";
  for (size_t i = 0; i < rep.rows.size(); ++i) {
    const ReportRow& r = rep.rows[i];
    const Traffic& t = r.traffic;
    out += std::string(i ? "," : "") + "{\"key\":" + jsonString(r.key) +
           ",\"bytes\":" + std::to_string(t.bytes()) + ",\"bytes_to_peer\":" + std::to_string(t.bytesToPeer) +
           ",\"bytes_to_client\":" + std::to_string(t.bytesToClient) +
           ",\"packets_to_peer\":" + std::to_string(t.packetsToPeer) +
           ",\"packets_to_client\":" + std::to_string(t.packetsToClient) +
           ",\"allocations\":" + std::to_string(r.allocations) + ",\"records\":" + std::to_string(r.records) +
           "}";
  }
  out += "],\"problems\":[";
  for (size_t i = 0; i < rep.problems.size(); ++i)
    out += std::string(i ? "," : "") + "{\"line\":" + std::to_string(rep.problems[i].line) +
           ",\"error\":" + jsonString(rep.problems[i].error) + "}";
  return out + "]}\n";
}

std::string renderTable(const Report& rep) {
  const std::string name = groupName(rep.by);
  size_t width = name.size();
  for (const auto& r : rep.rows) width = std::max(width, r.key.size());
  auto pad = [](std::string s, size_t w) { return s + std::string(w > s.size() ? w - s.size() : 0, ' '); };
  std::string out =
      pad(name, width) +
      "  bytes  bytes_to_peer  bytes_to_client  packets_to_peer  packets_to_client  allocations  records\n";
  for (const auto& r : rep.rows) out += pad(r.key, width) + numbers(r, "  ") + "\n";
  return out;
}

}  // namespace

std::string groupKey(const UsageRecord& r, GroupBy by) {
  switch (by) {
    case GroupBy::User:
      return r.user;
    case GroupBy::Realm:
      return r.realm;
    case GroupBy::ClientPrefix:
      return prefixOf(r.client);
  }
  return r.user;
}

struct Summarizer::Groups {
  std::map<std::string, Group> byKey;
};

Summarizer::Summarizer(ReportOptions options) : options_(options), groups_(std::make_unique<Groups>()) {
  report_.by = options.by;
}

Summarizer::~Summarizer() = default;

void Summarizer::add(std::string_view line) {
  ++line_;
  if (line.empty()) return;
  auto rec = parseRecord(line);
  if (!rec) {
    report_.problems.push_back({line_, rec.error()});
    return;
  }
  if (options_.since && rec->periodEnd < *options_.since) return;
  Group& g = groups_->byKey[groupKey(*rec, options_.by)];
  g.row.traffic += rec->period;
  ++g.row.records;
  g.allocations.insert(allocationOf(*rec));
  ++report_.records;
}

Report Summarizer::finish() {
  report_.rows = ranked(groups_->byKey, options_.top);
  return std::move(report_);
}

Report summarize(std::istream& in, const ReportOptions& options) {
  Summarizer s(options);
  for (std::string line; std::getline(in, line);) s.add(line);
  return s.finish();
}

std::string render(const Report& rep, ReportFormat format) {
  switch (format) {
    case ReportFormat::Json:
      return renderJson(rep);
    case ReportFormat::Csv: {
      std::string out =
          std::string(groupName(rep.by)) +
          ",bytes,bytes_to_peer,bytes_to_client,packets_to_peer,packets_to_client,allocations,records\n";
      for (const auto& r : rep.rows) out += csvField(r.key) + numbers(r, ",") + "\n";
      return out;
    }
    case ReportFormat::Table:
      return renderTable(rep);
  }
  return {};
}

}  // namespace tw::usage
