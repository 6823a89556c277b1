#include "relay/app/setup.h"

#include <algorithm>
#include <cstdio>

#include "relay/app/default_config.h"
#include "relay/base/json.h"

namespace tw::app {

std::optional<policy::Config> loadOrReport(const std::string& path) {
  auto cfg = path.empty() ? policy::loadConfigText(defaultConfigText(), "turnwarden.yaml")
                          : policy::loadConfig(path);
  if (cfg) return std::move(cfg.value());
  std::fputs(policy::formatErrors(cfg.error()).c_str(), stderr);
  return std::nullopt;
}

namespace {
std::string hostFor(const policy::Config& c, const policy::ListenerConfig& l) {
  if (!c.publicName.empty()) return c.publicName;
  IpAddress host = l.address;
  if (c.relay.externalAddress)
    host = *c.relay.externalAddress;
  else if (host.isUnspecified() && !c.relay.addresses.empty())
    host = c.relay.addresses.front();
  return host.isV4() ? host.toString() : "[" + host.toString() + "]";
}

std::string jsonArray(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + jsonString(items[i]);
  return out + "]";
}
}  // namespace

namespace {
std::string uriFor(const policy::Config& config, const policy::ListenerConfig& l) {
  const std::string hp = hostFor(config, l) + ":" + std::to_string(l.port);
  switch (l.transport) {
    case Transport::Udp:
      return "turn:" + hp + "?transport=udp";
    case Transport::Tcp:
      return "turn:" + hp + "?transport=tcp";
    case Transport::Tls:
      return "turns:" + hp + "?transport=tcp";
    case Transport::Dtls:
      return "turns:" + hp + "?transport=udp";
  }
  return "";
}

// One name (or one external address) for an IPv4 and an IPv6 listener: one URI.
void addUnique(std::vector<std::string>& out, std::string uri) {
  if (std::find(out.begin(), out.end(), uri) == out.end()) out.push_back(std::move(uri));
}
}  // namespace

std::vector<std::string> clientUris(const policy::Config& config) {
  std::vector<std::string> out;
  for (const auto& l : config.listeners) addUnique(out, uriFor(config, l));
  return out;
}

std::vector<std::string> clientUris(const policy::Config& config, std::string_view realm) {
  std::vector<std::string> out;
  for (const auto& l : config.listeners)
    if (policy::effectiveRealm(config, l) == realm) addUnique(out, uriFor(config, l));
  return out;
}

namespace {
/// FILE as one shell word: as it is when it is plain, else in single quotes.
std::string shellWord(const std::string& s) {
  const bool plain =
      !s.empty() &&
      s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:@%+=,-") ==
          std::string::npos;
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
}  // namespace

std::string mintCommand(const std::string& configPath) {
  return "turnwarden credential " +
         (configPath.empty() ? std::string() : "--config " + shellWord(configPath) + " ") + "--user NAME";
}

std::string startupIceLine(const std::vector<std::string>& uris, const std::string& configPath) {
  return "iceServers urls: " + jsonArray(uris) + "; mint a credential with: " + mintCommand(configPath);
}

std::string credentialJson(const std::vector<std::string>& uris, const policy::MintedCredential& cred) {
  return "{\"username\":" + jsonString(cred.username) + ",\"password\":" + jsonString(cred.password) +
         ",\"ttl\":" + std::to_string(cred.ttl) + ",\"uris\":" + jsonArray(uris) + "}";
}

}  // namespace tw::app
