#include "relay/http/client_address.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace tw::http {
namespace {

constexpr size_t kMaxHops = 64;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> splitList(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t at = s.find(sep);
    out.push_back(trim(s.substr(0, at)));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

bool equalsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

/// The for= value of one Forwarded element ("for=1.2.3.4;proto=https"), or empty.
std::string_view forValue(std::string_view element) {
  for (std::string_view pair : splitList(element, ';')) {
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && equalsNoCase(trim(pair.substr(0, eq)), "for"))
      return trim(pair.substr(eq + 1));
  }
  return {};
}

/// Nodes, left to right, of X-Forwarded-For or of Forwarded's for= values.
std::vector<std::string_view> nodes(std::string_view header, bool forwarded) {
  std::vector<std::string_view> out;
  if (trim(header).empty()) return out;
  for (std::string_view e : splitList(header, ',')) out.push_back(forwarded ? forValue(e) : e);
  return out;
}

/// The right-most untrusted address of one header (see the header comment).
IpAddress walk(const IpAddress& peer, const std::vector<std::string_view>& hops,
               const policy::TrustedProxies& trusted) {
  IpAddress hop = peer;
  const size_t stop = hops.size() > kMaxHops ? hops.size() - kMaxHops : 0;
  for (size_t i = hops.size(); i > stop; --i) {
    const auto a = parseForwardedNode(hops[i - 1]);
    if (!a) return hop;
    if (!trusted.contains(*a)) return *a;
    hop = *a;
  }
  return hop;
}

}  // namespace

std::optional<IpAddress> parseForwardedNode(std::string_view node) {
  node = trim(node);
  if (node.size() >= 2 && node.front() == '"' && node.back() == '"') node = node.substr(1, node.size() - 2);
  if (!node.empty() && node.front() == '[') {
    const size_t close = node.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = node.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !parsePort(rest.substr(1)))) return std::nullopt;
    auto ip = IpAddress::parse(node.substr(1, close - 1));
    if (!ip || ip->isV4()) return std::nullopt;
    return ip;
  }
  const size_t colon = node.find(':');
  if (colon != std::string_view::npos && node.find(':', colon + 1) == std::string_view::npos) {
    if (!parsePort(node.substr(colon + 1))) return std::nullopt;  // "192.0.2.1:80"
    node = node.substr(0, colon);
  }
  return IpAddress::parse(node);
}

IpAddress clientAddress(const IpAddress& peer, std::string_view forwarded, std::string_view xForwardedFor,
                        const policy::TrustedProxies& trusted) {
  if (!trusted.contains(peer)) return peer;
  const auto fwd = nodes(forwarded, true);
  const auto xff = nodes(xForwardedFor, false);
  if (fwd.empty()) return walk(peer, xff, trusted);
  if (xff.empty()) return walk(peer, fwd, trusted);
  const IpAddress a = walk(peer, fwd, trusted);
  return a == walk(peer, xff, trusted) ? a : peer;
}

}  // namespace tw::http
