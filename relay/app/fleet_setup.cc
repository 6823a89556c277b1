// ServerApp's side of fleet mode (docs/fleet.md): builds the fleet::FleetNode on
// the control loop (main thread: Redis I/O never runs on a worker), with the
// hooks only the app can fulfil, and the admin API's fleet-wide actions (run
// on the HTTP thread: each posts to the control loop and waits, bounded, for
// Redis to take it). Actions that touch allocations reach every worker
// through its post queue.
#include <unistd.h>

#include <future>

#include "relay/app/listeners.h"
#include "relay/app/server_app.h"
#include "relay/base/json.h"
#include "relay/turn/allocation.h"

namespace tw::app {

namespace {
std::string hostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}
}  // namespace

fleet::FleetHost ServerApp::fleetHost() {
  fleet::FleetHost h;
  h.keyring = [this](std::vector<policy::Secret> secrets, const std::string& why) {
    publishSecrets(std::move(secrets), why, keyringMtime_);
  };
  h.endUser = [this](const std::string& user) {
    // Every worker at once, each on its own thread; the control loop waits
    // (bounded) only to report how many ended.
    auto counts = workers_->gather<size_t>([user](io::Worker& w) {
      std::vector<uint64_t> ids;
      w.server().allocations().forEach([&](turn::Allocation& a) {
        if (a.user == user) ids.push_back(a.id);
      });
      for (uint64_t id : ids) w.server().endAllocation(id, "admin");
      return ids.size();
    });
    size_t n = 0;
    if (counts)
      for (size_t c : *counts) n += c;
    else
      log_.warn("fleet: a worker did not answer in time while ending a user's sessions (it still will)");
    return n;
  };
  h.reload = [this] { (void)reload(); };
  h.drain = [this] { drainNow(); };
  h.describe = [this] {
    fleet::NodeInfo n;
    n.addresses = describeListeners(listeners_.bound());
    if (!n.addresses.empty() && n.addresses.front() == ' ') n.addresses.erase(0, 1);
    n.allocations = shared_->quotas.total();
    n.bps = shared_->quotas.reservedBps() * 8;
    n.draining = obs_->service().draining();
    n.ready = !n.draining;
    return n;
  };
  return h;
}

bool ServerApp::startFleet() {
  if (!config_.fleet) return true;
  const policy::FleetConfig& fc = *config_.fleet;
  fleet::FleetSettings s{fc, config_.realm};
  s.nodeId = fc.nodeId.empty() ? policy::autoNodeId(hostName()) : fc.nodeId;
  if (!fc.redis.passwordFile.empty()) {
    auto pw = policy::readFleetPassword(fc.redis.passwordFile);
    if (!pw) {
      log_.error("fleet: redis.password_file " + pw.error());
      return false;
    }
    s.password = std::move(pw.value());
  }
  s.version = TW_VERSION;
  s.secretsFile = config_.auth.secretsFile;
  s.seed = config_.auth.secrets;
  s.seedRotatedAt = policy::fileMtime(config_.auth.secretsFile).value_or(clock_.unixSeconds());
  s.rotation = config_.auth.rotation;
  s.graceSeconds = policy::rotationGraceSeconds(config_.auth.rotation, config_.auth.maxTtlSeconds);
  fleetMetrics_ = std::make_unique<fleet::FleetMetrics>(obs_->folder().registry());
  fleet_ = std::make_unique<fleet::FleetNode>(
      fleet::FleetDeps{control_->base(), clock_, rng_, log_, *shared_, *fleetMetrics_,
                       usage_ ? usage_->stream() : nullptr},
      std::move(s), fleetHost());
  fleet_->start();
  return true;
}

http::ActionResult ServerApp::fleetAdmin(const http::FleetRequest& req) {
  if (req.op == "nodes") return {200, fleet_->nodesJson()};
  auto done = std::make_shared<std::promise<Result<std::string, std::string>>>();
  auto answer = done->get_future();
  auto reply = [done](Result<std::string, std::string> r) { done->set_value(std::move(r)); };
  control_->post([this, req, reply] {
    if (req.op == "rotate") return fleet_->rotate("admin API", reply);
    if (req.op == "lift_ban") return fleet_->liftBan(*IpAddress::parse(req.arg), reply);
    fleet::FleetMessage m;
    m.op = req.op == "end_user" ? fleet::FleetOp::EndUser
           : req.op == "reload" ? fleet::FleetOp::Reload
                                : fleet::FleetOp::Drain;
    m.user = req.arg;
    fleet_->publish(std::move(m), reply);
  });
  if (answer.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
    return {503, "{\"error\":\"the fleet did not answer in time\"}\n"};
  auto r = answer.get();
  if (!r) return {503, "{\"error\":" + jsonString(r.error()) + ",\"scope\":\"fleet\"}\n"};
  if (req.op == "rotate")
    return {200, "{\"rotated\":true,\"minting_id\":" + jsonString(*r) + ",\"scope\":\"fleet\"}\n"};
  return {202,
          "{\"published\":" + jsonString(req.op) + ",\"scope\":\"fleet\",\"nodes_listening\":" + *r + "}\n"};
}

}  // namespace tw::app
