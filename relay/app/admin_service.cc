#include "relay/app/admin_service.h"

#include <future>

#include "relay/base/json.h"
#include "relay/turn/allocation.h"

namespace tw::app {

using http::ActionResult;

namespace {

ActionResult ended(size_t n) {
  return {n == 0 ? 404 : 200, "{\"ended\":" + std::to_string(n) + "}\n"};
}

}  // namespace

std::string sessionJson(const turn::Allocation& a, Instant now) {
  std::string perms;
  for (const auto& p : a.permissions) perms += (perms.empty() ? "" : ",") + jsonString(p.peer.toString());
  const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - a.created).count();
  return "{\"id\":" + std::to_string(a.id) + ",\"user\":" + jsonString(a.user) +
         ",\"username\":" + jsonString(a.username) + ",\"client\":" +
         jsonString(a.tuple.client.toString()) + ",\"transport\":" +
         jsonString(std::string(toString(a.tuple.transport))) + ",\"relayed\":" +
         jsonString(a.advertised.toString()) + ",\"age_seconds\":" + std::to_string(age) +
         ",\"bytes_to_peer\":" + std::to_string(a.bytesToPeer) + ",\"bytes_to_client\":" +
         std::to_string(a.bytesToClient) + ",\"permissions\":[" + perms + "]}";
}

ActionResult LoopAdminActions::onControl(std::function<ActionResult()> fn) {
  auto done = std::make_shared<std::promise<ActionResult>>();
  auto result = done->get_future();
  control_.post([done, fn = std::move(fn)] { done->set_value(fn()); });
  if (result.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
    return {503, "{\"error\":\"the server did not answer in time\"}\n"};
  return result.get();
}

namespace {
const ActionResult kWorkersLate{503, "{\"error\":\"a worker did not answer in time\"}\n"};
}  // namespace

ActionResult LoopAdminActions::listSessions() {
  const Instant now = clock_.now();
  auto lists = workers_.gather<std::string>([now](io::Worker& w) {
    std::string out;
    w.server().allocations().forEach([&](turn::Allocation& a) {
      out += (out.empty() ? "" : ",\n ") + sessionJson(a, now);
    });
    return out;
  });
  if (!lists) return kWorkersLate;
  std::string out;
  for (const auto& l : *lists)
    if (!l.empty()) out += (out.empty() ? "" : ",\n ") + l;
  return ActionResult{200, "{\"sessions\":[" + out + "]}\n"};
}

std::optional<size_t> LoopAdminActions::endWhere(std::function<bool(const turn::Allocation&)> pick) {
  auto counts = workers_.gather<size_t>([pick](io::Worker& w) {
    std::vector<uint64_t> ids;
    w.server().allocations().forEach([&](turn::Allocation& a) {
      if (pick(a)) ids.push_back(a.id);
    });
    for (uint64_t id : ids) w.server().endAllocation(id, "admin");
    return ids.size();
  });
  if (!counts) return std::nullopt;
  size_t n = 0;
  for (size_t c : *counts) n += c;
  return n;
}

ActionResult LoopAdminActions::endSession(uint64_t id) {
  auto n = endWhere([id](const turn::Allocation& a) { return a.id == id; });
  return n ? ended(*n) : kWorkersLate;
}

ActionResult LoopAdminActions::endUserSessions(const std::string& user) {
  auto n = endWhere([user](const turn::Allocation& a) { return a.user == user; });
  if (!n) return kWorkersLate;
  return ActionResult{200, "{\"ended\":" + std::to_string(*n) + "}\n"};
}

ActionResult LoopAdminActions::reload() {
  return onControl([this] {
    auto st = hooks_.reload();
    if (st) return ActionResult{200, "{\"ok\":true}\n"};
    return ActionResult{422, "{\"ok\":false,\"errors\":" + jsonString(st.error()) + "}\n"};
  });
}

ActionResult LoopAdminActions::drain() {
  return onControl([this] {
    hooks_.drain();
    return ActionResult{200, "{\"draining\":true}\n"};
  });
}

ActionResult LoopAdminActions::mintCredential(const std::string& user, int64_t ttl) {
  return onControl([this, user, ttl] {
    auto json = hooks_.mint(user, ttl);
    if (!json) return ActionResult{503, "{\"error\":\"no secret can mint credentials now\"}\n"};
    return ActionResult{200, *json + "\n"};
  });
}

std::string bansJson(const std::vector<turn::BanTable::Ban>& bans, Instant now) {
  std::string out;
  for (const auto& b : bans) {
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(b.until - now).count();
    const SocketAddress source{b.ip, b.port};
    out += std::string(out.empty() ? "" : ",") + "{\"source\":" + jsonString(source.toString()) +
           ",\"ip\":" + jsonString(b.ip.toString()) + ",\"port\":" + std::to_string(b.port) +
           ",\"remaining_seconds\":" + std::to_string(left) + ",\"failures\":" +
           std::to_string(b.failures) + "}";
  }
  return "{\"bans\":[" + out + "]}\n";
}

ActionResult LoopAdminActions::listBans() {
  if (!shared_) return notAvailable("bans");
  const Instant now = clock_.now();
  return {200, bansJson(shared_->bans.list(now), now)};
}

ActionResult LoopAdminActions::liftBan(const IpAddress& ip) {
  if (!shared_) return notAvailable("bans");
  if (!shared_->bans.lift(ip)) return {404, "{\"error\":\"no active ban for that address\"}\n"};
  return {200, "{\"lifted\":" + jsonString(ip.toString()) + "}\n"};
}

ActionResult LoopAdminActions::rotate() {
  if (hooks_.fleet) return hooks_.fleet({"rotate", ""});  // the fleet keyring, in Redis
  return onControl([this] {
    if (!hooks_.rotate) return ActionResult{501, "{\"error\":\"secret rotation not available\"}\n"};
    auto id = hooks_.rotate();
    if (!id) return ActionResult{409, "{\"error\":" + jsonString(id.error()) + "}\n"};
    return ActionResult{200, "{\"rotated\":true,\"minting_id\":" + jsonString(id.value()) + "}\n"};
  });
}

Result<std::unique_ptr<AdminService>, std::string> AdminService::start(
    const policy::AdminConfig& config, WorkerPool& workers, io::EventLoop& control,
    const Clock& clock, AppHooks hooks, const policy::PolicyHolder& policy, metrics::EventLog* events,
    turn::SharedLimits* shared) {
  auto token = http::readTokenFile(config.tokenFile);
  if (!token) return err("admin: " + config.tokenFile + ": " + token.error());
  auto s = std::make_unique<AdminService>();
  s->actions_ =
      std::make_unique<LoopAdminActions>(workers, control, clock, std::move(hooks), policy, shared);
  s->api_ = std::make_unique<http::AdminApi>(*s->actions_, *token, clock, events);
  auto* api = s->api_.get();
  auto http = http::HttpServer::start(*config.listen,
                                         [api](const http::HttpRequest& r) { return api->handle(r); });
  if (!http) return err("admin: " + http.error());
  s->http_ = std::move(http.value());
  return s;
}

}  // namespace tw::app
