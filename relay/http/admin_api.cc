#include "relay/http/admin_api.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <charconv>

#include "relay/base/crypto.h"
#include "relay/base/handle.h"
#include "relay/base/json.h"

namespace tw::http {

using metrics::EventLog;

namespace {

constexpr size_t kMaxUser = 256;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

HttpResponse fromResult(const ActionResult& r) { return HttpResponse{r.status, "application/json", r.json}; }

/// A POST body must be empty or a JSON object (yaml-cpp parses JSON; its
/// exceptions stop here).
bool acceptableBody(const std::string& body) {
  if (trim(body).empty()) return true;
  try {
    return YAML::Load(body).IsMap() && trim(body).front() == '{';
  } catch (const YAML::Exception&) {
    return false;
  }
}

bool validUser(std::string_view user) { return !user.empty() && user.size() <= kMaxUser; }

}  // namespace

ActionResult AdminActions::notAvailable(std::string_view what) {
  return {501, "{\"error\":" + jsonString(std::string(what) + " not available in this build") + "}\n"};
}

std::optional<uint64_t> parseId(std::string_view text) {
  uint64_t v = 0;
  if (text.empty() || text.size() > 20) return std::nullopt;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

Result<std::string, std::string> readTokenFile(const std::string& path) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return err(std::string("cannot open the admin token file"));
  struct stat st{};
  std::string text;
  if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) == 0 && st.st_size <= 8192) {
    text.resize(size_t(st.st_size));
    if (::read(fd.get(), text.data(), text.size()) != ssize_t(text.size())) text.clear();
  } else {
    return err(std::string("the admin token file must be a regular file with mode 0600 or stricter"));
  }
  const std::string token(trim(text));
  if (token.size() < 16 || token.size() > 4096) return err(std::string("the admin token must be 16-4096 bytes"));
  for (char c : token)
    if (c < 0x21 || c > 0x7e) return err(std::string("the admin token must be printable ASCII without spaces"));
  return token;
}

AdminApi::AdminApi(AdminActions& actions, std::string token, const Clock& clock, EventLog* events)
    : actions_(actions), tokenDigest_(sha256(asBytes(token))), clock_(clock), events_(events) {}

std::optional<HttpResponse> AdminApi::authorize(const HttpRequest& req) {
  const IpAddress who = req.peer.value_or(IpAddress::v4(0, 0, 0, 0));
  const Instant now = clock_.now();
  std::lock_guard lock(mu_);
  Strikes& s = strikes_[who];
  if (now - s.windowStart >= kThrottleWindow) s = Strikes{now, 0};
  if (s.count >= kMaxBadTokens) return jsonError(429, "too many bad tokens; try again later");
  constexpr std::string_view kBearer = "Bearer ";
  const std::string_view given = std::string_view(req.authorization).substr(
      req.authorization.rfind(kBearer, 0) == 0 ? kBearer.size() : req.authorization.size());
  const auto digest = sha256(asBytes(given));
  if (!req.authorization.empty() && constantTimeEqual(digest, tokenDigest_)) return std::nullopt;
  ++s.count;
  if (events_)
    events_->push({"admin_auth_failure", "warning", "", who.toString(), "", "", "bad or missing bearer token"});
  return jsonError(401, "missing or bad bearer token");
}

HttpResponse AdminApi::handle(const HttpRequest& req) {
  if (auto denied = authorize(req)) return *denied;
  HttpResponse r = route(req);
  audit(req, r.status);
  return r;
}

void AdminApi::audit(const HttpRequest& req, int status) {
  if (!events_ || req.method == "GET") return;  // reads are not audited
  events_->push({"admin", "info", req.query.count("user") ? req.query.at("user") : "",
                 req.peer ? req.peer->toString() : "", "", "",
                 req.method + " " + req.path + " -> " + std::to_string(status)});
}

HttpResponse AdminApi::route(const HttpRequest& req) {
  if (req.method == "POST" && !acceptableBody(req.body)) return jsonError(400, "the body must be empty or a JSON object");
  const std::string& p = req.path;
  if (auto fleet = fleetScope(req)) return *fleet;
  if (p == "/admin/sessions" || p.rfind("/admin/sessions/", 0) == 0) return sessions(req);
  if (p == "/admin/bans" || p.rfind("/admin/bans/", 0) == 0) return bans(req);
  if (p == "/api/v1/credentials") return credentials(req);
  if (p == "/admin/reload" || p == "/admin/drain" || p == "/admin/rotate") {
    if (req.method != "POST") return jsonError(400, p + " takes POST");
    if (p == "/admin/reload") return fromResult(actions_.reload());
    if (p == "/admin/drain") return fromResult(actions_.drain());
    return fromResult(actions_.rotate());
  }
  return jsonError(400, "unknown path");
}

std::optional<HttpResponse> AdminApi::fleetScope(const HttpRequest& req) {
  const std::string& p = req.path;
  if (p == "/admin/nodes") {
    if (req.method != "GET") return jsonError(400, "/admin/nodes takes GET");
    return fromResult(actions_.fleet({"nodes", ""}));
  }
  auto scope = req.query.find("scope");
  if (scope == req.query.end() || scope->second == "node") return std::nullopt;
  if (scope->second != "fleet") return jsonError(400, "scope must be node or fleet");
  constexpr std::string_view kBans = "/admin/bans/";
  if (p == "/admin/sessions" && req.method == "DELETE") {
    auto user = req.query.find("user");
    if (user == req.query.end() || !validUser(user->second))
      return jsonError(400, "DELETE /admin/sessions needs ?user=NAME (1-256 bytes)");
    return fromResult(actions_.fleet({"end_user", user->second}));
  }
  if (p.rfind(kBans, 0) == 0 && req.method == "DELETE") {
    auto ip = IpAddress::parse(std::string_view(p).substr(kBans.size()));
    if (!ip) return jsonError(400, "not an IP address");
    return fromResult(actions_.fleet({"lift_ban", ip->toString()}));
  }
  if ((p == "/admin/reload" || p == "/admin/drain") && req.method == "POST")
    return fromResult(actions_.fleet({p == "/admin/reload" ? "reload" : "drain", ""}));
  return jsonError(400, "scope=fleet applies to DELETE /admin/sessions?user=, DELETE /admin/bans/{ip}, "
                        "POST /admin/reload and POST /admin/drain");
}

HttpResponse AdminApi::sessions(const HttpRequest& req) {
  constexpr std::string_view kPrefix = "/admin/sessions/";
  if (req.path.size() > kPrefix.size() - 1 && req.path.rfind(kPrefix, 0) == 0) {
    if (req.method != "DELETE") return jsonError(400, "/admin/sessions/{id} takes DELETE");
    auto id = parseId(std::string_view(req.path).substr(kPrefix.size()));
    if (!id) return jsonError(400, "the session id must be a decimal number");
    return fromResult(actions_.endSession(*id));
  }
  if (req.method == "GET") return fromResult(actions_.listSessions());
  if (req.method != "DELETE") return jsonError(400, "/admin/sessions takes GET or DELETE");
  auto user = req.query.find("user");
  if (user == req.query.end() || !validUser(user->second))
    return jsonError(400, "DELETE /admin/sessions needs ?user=NAME (1-256 bytes)");
  return fromResult(actions_.endUserSessions(user->second));
}

HttpResponse AdminApi::bans(const HttpRequest& req) {
  constexpr std::string_view kPrefix = "/admin/bans/";
  if (req.path.rfind(kPrefix, 0) == 0) {
    if (req.method != "DELETE") return jsonError(400, "/admin/bans/{ip} takes DELETE");
    auto ip = IpAddress::parse(std::string_view(req.path).substr(kPrefix.size()));
    if (!ip) return jsonError(400, "not an IP address");
    return fromResult(actions_.liftBan(*ip));
  }
  if (req.method != "GET") return jsonError(400, "/admin/bans takes GET");
  return fromResult(actions_.listBans());
}

HttpResponse AdminApi::credentials(const HttpRequest& req) {
  if (req.method != "GET") return jsonError(400, "/api/v1/credentials takes GET");
  auto user = req.query.find("user");
  if (user == req.query.end() || !validUser(user->second))
    return jsonError(400, "user is required (1-256 bytes)");
  int64_t ttl = actions_.maxTtl();
  if (auto t = req.query.find("ttl"); t != req.query.end()) {
    auto v = parseId(t->second);
    if (!v || *v == 0) return jsonError(400, "ttl must be a positive number of seconds");
    ttl = int64_t(std::min<uint64_t>(*v, uint64_t(actions_.maxTtl())));
  }
  return fromResult(actions_.mintCredential(user->second, ttl));
}

}  // namespace tw::http
