#pragma once
// The admin and credential API of the running server: http::AdminApi's
// routes served on admin.listen, with AdminActions implemented by posting to
// the loops that own the state and waiting, bounded, for the answer: session
// actions to every worker (or the one owning an allocation id), reload,
// drain, minting and rotation to the control loop. The MHD thread never
// touches worker or config state itself.
#include <atomic>
#include <functional>
#include <memory>

#include "relay/http/admin_api.h"
#include "metrics/event_log.h"
#include "relay/http/http_server.h"
#include "policy/config.h"
#include "policy/snapshot.h"
#include "relay/base/clock.h"
#include "relay/app/worker_pool.h"
#include "relay/io/event_loop.h"
#include "relay/turn/shared_limits.h"

namespace tw::app {

/// What only the app can do; every callback runs on the control loop thread.
struct AppHooks {
  std::function<Status<std::string>()> reload;
  std::function<void()> drain;
  /// The credential JSON for `user`, or nullopt when no secret can mint.
  std::function<std::optional<std::string>(const std::string& user, int64_t ttl)> mint;
  /// Rotates the keyring file now; the new minting secret's id, or why not.
  std::function<Result<std::string, std::string>()> rotate;
  /// Fleet mode (fleet_setup.cc): fleet-wide actions, rotation included.
  /// Called on the HTTP thread: it waits for Redis, so never on the loop.
  std::function<http::ActionResult(const http::FleetRequest&)> fleet;
};

/// GET /admin/bans: each active ban by the source address it applies to
/// (bans are per IP and port, docs/policy.md), with that IP and port apart
/// so that clients filtering by IP keep working.
std::string bansJson(const std::vector<turn::BanTable::Ban>& bans, Instant now);

class LoopAdminActions final : public http::AdminActions {
 public:
  LoopAdminActions(WorkerPool& workers, io::EventLoop& control, const Clock& clock, AppHooks hooks,
                   const policy::PolicyHolder& policy, turn::SharedLimits* shared)
      : workers_(workers), control_(control), clock_(clock), hooks_(std::move(hooks)),
        policy_(policy), shared_(shared) {}

  http::ActionResult listSessions() override;
  http::ActionResult endSession(uint64_t id) override;
  http::ActionResult endUserSessions(const std::string& user) override;
  http::ActionResult reload() override;
  http::ActionResult drain() override;
  http::ActionResult mintCredential(const std::string& user, int64_t ttl) override;
  /// auth.max_ttl of the snapshot in force (a reload reaches it there).
  int64_t maxTtl() const override { return policy_.load()->maxTtlSeconds; }
  /// The BanTable is thread-safe: no post needed.
  http::ActionResult listBans() override;
  http::ActionResult liftBan(const IpAddress& ip) override;
  http::ActionResult rotate() override;
  http::ActionResult fleet(const http::FleetRequest& req) override {
    return hooks_.fleet ? hooks_.fleet(req) : AdminActions::fleet(req);
  }

 private:
  /// Runs `fn` on the control loop and returns its result; 503 if the loop
  /// does not answer within a few seconds.
  http::ActionResult onControl(std::function<http::ActionResult()> fn);
  /// Ends the allocations `pick` selects on every worker; how many ended,
  /// or nullopt when a worker did not answer in time.
  std::optional<size_t> endWhere(std::function<bool(const turn::Allocation&)> pick);

  WorkerPool& workers_;
  io::EventLoop& control_;
  const Clock& clock_;
  AppHooks hooks_;
  const policy::PolicyHolder& policy_;
  turn::SharedLimits* shared_;
};

class AdminService {
 public:
  /// Reads the token file and binds admin.listen; the error says which failed.
  static Result<std::unique_ptr<AdminService>, std::string> start(
      const policy::AdminConfig& config, WorkerPool& workers, io::EventLoop& control,
      const Clock& clock, AppHooks hooks,
      const policy::PolicyHolder& policy, metrics::EventLog* events, turn::SharedLimits* shared);
  SocketAddress address() const { return http_->address(); }

 private:
  std::unique_ptr<LoopAdminActions> actions_;
  std::unique_ptr<http::AdminApi> api_;
  std::unique_ptr<http::HttpServer> http_;  // last: stops first
};

/// The JSON of one allocation for GET /admin/sessions.
std::string sessionJson(const turn::Allocation& a, Instant now);

}  // namespace tw::app
