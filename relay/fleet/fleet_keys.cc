#include "relay/fleet/fleet_keys.h"

#include <array>
#include <charconv>

#include "policy/credentials.h"
#include "policy/fleet_config.h"

namespace tw::fleet {

using namespace tw::policy;  // the keyring, quota and user-name rules fleet state obeys

std::string escapeGlob(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string FleetKeys::banPattern() const { return escapeGlob(prefix_) + "ban:*"; }

std::string FleetKeys::banPattern(const IpAddress& ip) const {
  const std::string host = ip.isV4() ? ip.toString() : "[" + ip.toString() + "]";
  return escapeGlob(prefix_ + "ban:" + host + ":") + "*";
}

namespace {

constexpr std::array<std::pair<FleetOp, std::string_view>, 6> kOps{{
    {FleetOp::Keyring, "keyring"},
    {FleetOp::Ban, "ban"},
    {FleetOp::Unban, "unban"},
    {FleetOp::EndUser, "end_user"},
    {FleetOp::Reload, "reload"},
    {FleetOp::Drain, "drain"},
}};

constexpr int64_t kMaxBanMs = 7LL * 24 * 3600 * 1000;

/// Cuts the next space-separated word off `rest`.
std::string_view word(std::string_view& rest) {
  const size_t sp = rest.find(' ');
  std::string_view w = rest.substr(0, sp);
  rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
  return w;
}

std::optional<int64_t> number(std::string_view s) {
  int64_t v = 0;
  if (s.empty() || s.size() > 18) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

/// The op-specific arguments; false when they do not fit the op.
bool parseArgs(FleetMessage& m, std::string_view rest) {
  switch (m.op) {
    case FleetOp::Keyring: {
      auto v = number(rest);
      m.version = v.value_or(0);
      return v && *v >= 1;
    }
    case FleetOp::Ban: {
      m.source = SocketAddress::parse(word(rest));
      auto ttl = number(rest);
      m.ttlMs = ttl.value_or(0);
      return m.source && ttl && *ttl >= 1 && *ttl <= kMaxBanMs;
    }
    case FleetOp::Unban:
      m.ip = IpAddress::parse(rest);
      return m.ip.has_value();
    case FleetOp::EndUser:
      m.user = std::string(rest);
      return !rest.empty() && rest.size() <= kMaxUsernameBytes;
    case FleetOp::Reload:
    case FleetOp::Drain:
      return rest.empty();
  }
  return false;
}

}  // namespace

std::string_view toString(FleetOp op) {
  for (const auto& [o, name] : kOps)
    if (o == op) return name;
  return "unknown";
}

std::string formatFleetMessage(const FleetMessage& m) {
  std::string out = std::string(toString(m.op)) + " " + m.origin;
  switch (m.op) {
    case FleetOp::Keyring:
      return out + " " + std::to_string(m.version);
    case FleetOp::Ban:
      return out + " " + (m.source ? m.source->toString() : "") + " " + std::to_string(m.ttlMs);
    case FleetOp::Unban:
      return out + " " + (m.ip ? m.ip->toString() : "");
    case FleetOp::EndUser:
      return out + " " + m.user;
    case FleetOp::Reload:
    case FleetOp::Drain:
      return out;
  }
  return out;
}

std::optional<FleetMessage> parseFleetMessage(std::string_view text) {
  std::string_view rest = text;
  const std::string_view opName = word(rest);
  FleetMessage m;
  bool known = false;
  for (const auto& [o, name] : kOps)
    if (name == opName) m.op = o, known = true;
  if (!known) return std::nullopt;
  const std::string_view origin = word(rest);
  if (checkNodeId(origin)) return std::nullopt;
  m.origin = std::string(origin);
  if (!parseArgs(m, rest)) return std::nullopt;
  return m;
}

}  // namespace tw::fleet
