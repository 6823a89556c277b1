#include "relay/usage/record.h"

#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>

#include "relay/base/json.h"

namespace tw::usage {

namespace {

using Json = nlohmann::json;

void number(std::string& out, const char* key, uint64_t v) {
  out += ",\"";
  out += key;
  out += "\":" + std::to_string(v);
}

void text(std::string& out, const char* key, std::string_view v) {
  out += ",\"";
  out += key;
  out += "\":" + jsonString(v);
}

void traffic(std::string& out, const char* prefix, const Traffic& t) {
  const std::string p(prefix);
  number(out, (p + "bytes_to_peer").c_str(), t.bytesToPeer);
  number(out, (p + "bytes_to_client").c_str(), t.bytesToClient);
  number(out, (p + "packets_to_peer").c_str(), t.packetsToPeer);
  number(out, (p + "packets_to_client").c_str(), t.packetsToClient);
}

std::optional<int64_t> parseIsoTime(const std::string& s) {
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return int64_t(timegm(&tm));
}

/// Reads the fields of `j` into `r`; the first missing or mistyped key is the error.
struct Fields {
  const Json& j;
  std::string error;

  const Json* at(const char* key, bool (Json::*is)() const noexcept) {
    auto it = j.find(key);
    if (it == j.end() || !((*it).*is)()) {
      if (error.empty()) error = std::string("missing or mistyped \"") + key + "\"";
      return nullptr;
    }
    return &*it;
  }
  void get(const char* key, std::string& out) {
    if (auto* v = at(key, &Json::is_string)) out = v->get<std::string>();
  }
  template <class N>
  void get(const char* key, N& out) {
    if (auto* v = at(key, &Json::is_number_unsigned)) out = v->get<N>();
  }
  void time(const char* key, int64_t& out) {
    std::string s;
    get(key, s);
    if (!error.empty()) return;
    if (auto t = parseIsoTime(s))
      out = *t;
    else
      error = std::string("\"") + key + "\" is not a UTC time like 2026-12-08T01:43:00Z";
  }
  void traffic(const char* prefix, Traffic& t) {
    const std::string p(prefix);
    get((p + "bytes_to_peer").c_str(), t.bytesToPeer);
    get((p + "bytes_to_client").c_str(), t.bytesToClient);
    get((p + "packets_to_peer").c_str(), t.packetsToPeer);
    get((p + "packets_to_client").c_str(), t.packetsToClient);
  }
};

void readRecord(Fields& f, UsageRecord& r) {
  std::string type;
  f.get("type", type);
  if (f.error.empty() && type != "interim" && type != "final")
    f.error = "\"type\" is neither interim nor final";
  r.final = type == "final";
  f.get("record_id", r.recordId);
  f.get("node", r.node);
  f.get("allocation_id", r.allocationId);
  f.get("seq", r.seq);
  f.get("realm", r.realm);
  f.get("user", r.user);
  f.get("username", r.username);
  f.get("client", r.client);
  f.get("transport", r.transport);
  f.time("start", r.start);
  f.time("period_start", r.periodStart);
  f.time("period_end", r.periodEnd);
  f.traffic("", r.period);
  f.traffic("total_", r.total);
  f.get("peers", r.peers);
  f.get("channels", r.channels);
  if (r.final) f.get("end_reason", r.endReason);
  if (const Json* rel = f.at("relayed", &Json::is_array))
    for (const auto& a : *rel)
      if (a.is_string()) r.relayed.push_back(a.get<std::string>());
}

}  // namespace

std::string isoTime(int64_t unixSeconds) {
  const std::time_t t = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string formatRecord(const UsageRecord& r) {
  std::string out = "{\"schema\":" + std::to_string(kSchemaVersion);
  text(out, "type", r.final ? "final" : "interim");
  text(out, "record_id", r.recordId);
  text(out, "node", r.node);
  number(out, "allocation_id", r.allocationId);
  number(out, "seq", r.seq);
  text(out, "realm", r.realm);
  text(out, "user", r.user);
  text(out, "username", r.username);
  text(out, "client", r.client);
  text(out, "transport", r.transport);
  out += ",\"relayed\":[";
  for (size_t i = 0; i < r.relayed.size(); ++i) out += (i ? "," : "") + jsonString(r.relayed[i]);
  out += "]";
  text(out, "start", isoTime(r.start));
  text(out, "period_start", isoTime(r.periodStart));
  text(out, "period_end", isoTime(r.periodEnd));
  traffic(out, "", r.period);
  traffic(out, "total_", r.total);
  number(out, "peers", r.peers);
  number(out, "channels", r.channels);
  if (r.final) text(out, "end_reason", r.endReason);
  return out + "}\n";
}

Result<UsageRecord, std::string> parseRecord(std::string_view line) {
  const Json j = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return err(std::string("not a JSON object"));
  auto schema = j.find("schema");
  if (schema == j.end() || !schema->is_number_unsigned() || schema->get<int>() != kSchemaVersion)
    return err("not a schema " + std::to_string(kSchemaVersion) + " usage record");
  UsageRecord r;
  Fields f{j, {}};
  readRecord(f, r);
  if (!f.error.empty()) return err(std::move(f.error));
  return r;
}

}  // namespace tw::usage
