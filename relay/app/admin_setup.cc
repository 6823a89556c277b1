// ServerApp's part of the admin API: the hooks only the app can fulfil
// (reload, drain, minting with the live keyring), run on the control loop.
#include "policy/credentials.h"
#include "relay/app/server_app.h"
#include "relay/app/setup.h"

namespace tw::app {

void ServerApp::drainNow() {
  workers_->forEach([](io::Worker& w) { w.server().setDraining(true); });
  obs_->service().setDraining(true);
  obs_->eventLog().push({"drain", "info", "", "", "", "", "new allocations refused (508)"});
  log_.info("draining: Allocate now gets 508; live allocations run until they expire");
}

bool ServerApp::startAdmin() {
  if (!config_.admin.listen) return true;
  AppHooks hooks{
      [this] { return reload(); },
      [this] { drainNow(); },
      [this](const std::string& user, int64_t ttl) -> std::optional<std::string> {
        policy::Keyring keyring(config_.auth.secrets);
        auto cred = policy::mintCredential(keyring, user, ttl, clock_.unixSeconds());
        if (!cred) return std::nullopt;
        return credentialJson(clientUris(config_), *cred);
      }};
  hooks.rotate = [this]() -> Result<std::string, std::string> {
    if (auto st = rotateNow("admin API"); !st) return err(st.error());
    return config_.auth.secrets.front().id;  // an id, never a value
  };
  if (fleet_) hooks.fleet = [this](const http::FleetRequest& r) { return fleetAdmin(r); };
  auto admin = AdminService::start(config_.admin, *workers_, *control_, clock_, std::move(hooks),
                                   *policy_, &obs_->eventLog(), shared_.get());
  if (!admin) {
    log_.error(admin.error());
    return false;
  }
  admin_ = std::move(admin.value());
  log_.info("admin: serving http://" + admin_->address().toString() + "/admin and /api/v1");
  return true;
}

}  // namespace tw::app
