#pragma once
// Start-up and lifetime of the server process: secrets, the policy
// snapshot, relay addresses, N workers (each on its own thread), and the
// control loop on the main thread: signals (TERM/INT stop, HUP reloads,
// USR1 reopens the event log, USR2 rotates), the keyring timer, reloads and
// the admin API's app actions.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "policy/config.h"
#include "policy/nonce.h"
#include "policy/snapshot.h"
#include "relay/app/admin_service.h"
#include "relay/app/credentials_service.h"
#include "relay/app/listeners.h"
#include "relay/app/observability.h"
#include "relay/app/usage_setup.h"
#include "relay/app/worker_pool.h"
#include "relay/base/clock.h"
#include "relay/base/log.h"
#include "relay/base/random.h"
#include "relay/fleet/fleet_node.h"
#include "relay/io/event_loop.h"
#include "relay/io/handles.h"
#include "relay/turn/relay_addresses.h"

namespace tw::app {

class ServerApp {
 public:
  ServerApp(policy::Config config, std::string configPath);
  ~ServerApp();
  /// Returns the process exit code.
  int run();

 private:
  bool ensureSecrets();
  /// Generates the keyring file `path` when `secrets` is empty (first start).
  bool ensureKeyringFile(const std::string& path, std::vector<policy::Secret>& secrets);
  bool start();
  void announce();
  /// Re-reads the config; the error lists why it was refused.
  Status<std::string> reload();
  /// Logs and counts a refused reload; the old policy and listeners stay.
  Status<std::string> refuseReload(const std::vector<policy::ConfigError>& errors);
  /// Opens/closes listeners and reads TLS/DTLS certificates for a reload;
  /// the error is a FILE-level one.
  Result<ListenerChanges, std::vector<policy::ConfigError>> applyListeners(const policy::Config& next);
  /// Builds the one snapshot of config_ for this change, with the listeners'
  /// TLS/DTLS contexts, and hands it to the workers (each swaps it in at the
  /// top of its next loop iteration) and the detectors.
  void publish();
  bool startAdmin();
  // The JWT -> TURN credentials endpoint (credentials_service.cc).
  bool startCredentials();
  void reloadCredentials(const policy::Config& next);
  std::vector<SocketAddress> selfAddresses() const;
  // Keyring rotation and watching (keyring_watch.cc).
  void startKeyringWatch();
  void checkKeyring();
  Status<std::string> rotateNow(std::string_view why);
  /// `stamp`: policy::fileStampNs of the file these secrets came from.
  void publishSecrets(std::vector<policy::Secret> secrets, std::string_view why, int64_t stamp);
  static void onKeyringTimer(evutil_socket_t fd, short what, void* arg);
  // The realms' own keyring files, on the same timer (realm_keyrings.cc).
  /// Records their stamps; false when no realm has a keyring file.
  bool watchRealmKeyrings();
  void checkRealmKeyrings();
  static void onSignal(evutil_socket_t sig, short what, void* arg);
  void drainNow();
  // Fleet mode (fleet_setup.cc, docs/fleet.md).
  bool startFleet();
  fleet::FleetHost fleetHost();
  http::ActionResult fleetAdmin(const http::FleetRequest& req);

  Logger log_;
  SystemClock clock_;
  CsprngRandom rng_;
  policy::Config config_;  // control thread only
  std::string configPath_;
  /// 0: the snapshot the workers are built with, before any listener is
  /// open; start() publishes 1 with the listeners' TLS/DTLS contexts, so the
  /// first reload is generation 2 whatever start-up needed.
  uint64_t generation_ = 0;
  std::unique_ptr<policy::NonceService> nonces_;
  turn::RelayAddresses relays_;
  std::unique_ptr<policy::PolicyHolder> policy_;
  std::unique_ptr<turn::SharedLimits> shared_;
  std::unique_ptr<Observability> obs_;   // outlives workers_: it receives their events
  std::unique_ptr<UsageRecords> usage_;  // outlives workers_ too: their final records
  /// Made in run(), after evthread_use_pthreads(): a base made before it
  /// cannot be woken from another thread.
  std::unique_ptr<io::EventLoop> control_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<CredentialsService> credentials_;  // reads policy_, obs_
  ListenerSet listeners_;                            // what every worker listens on, by configured listener
  std::vector<io::EventPtr> signals_;
  io::EventPtr keyringTimer_;
  int64_t keyringMtime_ = 0;                           // ns stamp of the keyring file we last loaded or wrote
  std::map<std::string, int64_t> realmKeyringStamps_;  // the same per auth.realms file, by realm
  std::unique_ptr<fleet::FleetMetrics> fleetMetrics_;
  std::unique_ptr<fleet::FleetNode> fleet_;  // on control_'s loop: declared after it, destroyed first
};

}  // namespace tw::app
