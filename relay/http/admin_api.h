#pragma once
// The admin and credential API (off unless admin.listen is configured).
//
// Every request needs "Authorization: Bearer <token>"; the token comes from a
// 0600 file and is compared in constant time (on SHA-256 digests, so the
// length leaks nothing either). The right token is always answered, whatever
// failed before from that address: a local user (or anyone behind the same
// proxy) cannot lock the operator out. Bad tokens are limited per source:
// after kMaxBadTokens in a window, further bad tokens get 429 (and are no
// longer written to the event log) until the window ends. The failing
// sources live in a fixed-size IpTable (kStrikeSets x 4 entries, least
// recently touched evicted), and a count older than the window is void.
// Guessing stays hopeless: the token is 16-4096 bytes read from a file.
//
// Routes (JSON in, JSON out; every bad input gets 400 with {"error": ...}):
//   GET    /admin/sessions              DELETE /admin/sessions/{id}
//   DELETE /admin/sessions?user=NAME    POST   /admin/reload   POST /admin/drain
//   GET    /admin/bans   DELETE /admin/bans/{ip}   POST /admin/rotate
//   GET    /api/v1/credentials?user=NAME&ttl=SECONDS
//   GET    /admin/nodes (fleet mode), and ?scope=fleet on DELETE /admin/sessions?user=,
//   DELETE /admin/bans/{ip}, POST /admin/reload and POST /admin/drain: the action is
//   published to every node of the fleet (docs/fleet.md).
//
// The API never touches worker state: AdminActions (implemented by the app
// with Worker::post()) does.
#include <mutex>
#include <optional>
#include <string>

#include "metrics/event_log.h"
#include "relay/base/clock.h"
#include "relay/base/ip_table.h"
#include "relay/http/http_server.h"

namespace tw::http {

/// A result for the API: HTTP status and JSON body.
struct ActionResult {
  int status = 200;
  std::string json;
};

/// An action for the whole fleet (?scope=fleet, GET /admin/nodes; fleet
/// mode, docs/fleet.md): op is "end_user", "lift_ban", "reload", "drain",
/// "rotate" or "nodes"; arg is the user or the address.
struct FleetRequest {
  std::string op;
  std::string arg;
};

/// What the API asks of the server. Bans and rotation belong to the policy
/// work (BanTable, `turnwarden rotate`); until the app wires them, the
/// defaults answer 501 so clients see a clear "not available".
class AdminActions {
 public:
  virtual ~AdminActions() = default;
  virtual ActionResult listSessions() = 0;
  virtual ActionResult endSession(uint64_t id) = 0;
  virtual ActionResult endUserSessions(const std::string& user) = 0;
  virtual ActionResult reload() = 0;
  virtual ActionResult drain() = 0;
  /// `ttl` is already capped at maxTtl().
  virtual ActionResult mintCredential(const std::string& user, int64_t ttl) = 0;
  virtual int64_t maxTtl() const = 0;
  virtual ActionResult listBans() { return notAvailable("bans"); }
  virtual ActionResult liftBan(const IpAddress&) { return notAvailable("bans"); }
  virtual ActionResult rotate() { return notAvailable("secret rotation"); }
  /// Fleet mode only; called on the HTTP thread.
  virtual ActionResult fleet(const FleetRequest&) {
    return {501, "{\"error\":\"fleet mode is off: the config has no fleet: section\"}\n"};
  }

 protected:
  static ActionResult notAvailable(std::string_view what);
};

class AdminApi {
 public:
  static constexpr int kMaxBadTokens = 5;
  static constexpr Duration kThrottleWindow = std::chrono::seconds(60);
  static constexpr size_t kStrikeSets = 256;  ///< x IpTable::kWays sources remembered

  /// `events` may be null; admin actions and bad tokens are written there.
  AdminApi(AdminActions& actions, std::string token, const Clock& clock, metrics::EventLog* events);
  HttpResponse handle(const HttpRequest& req);
  /// Sources with bad tokens inside the current window (for tests and
  /// metrics); never more than the table's capacity.
  size_t failingSources();

 private:
  bool rightToken(const std::string& authorization) const;
  /// nullopt when authorized, else the response to send.
  std::optional<HttpResponse> authorize(const HttpRequest& req);
  HttpResponse route(const HttpRequest& req);
  HttpResponse sessions(const HttpRequest& req);
  HttpResponse bans(const HttpRequest& req);
  HttpResponse credentials(const HttpRequest& req);
  /// ?scope=fleet: nullopt when the request is for this node only.
  std::optional<HttpResponse> fleetScope(const HttpRequest& req);
  void audit(const HttpRequest& req, int status);

  struct Strikes {
    Instant windowStart;
    int count = 0;
  };

  AdminActions& actions_;
  std::array<uint8_t, 32> tokenDigest_;
  const Clock& clock_;
  metrics::EventLog* events_;
  std::mutex mu_;
  IpTable<Strikes> strikes_;
};

/// Reads a bearer token file: must be a regular file with no group/other
/// permission bits (0600 or stricter) and hold 16-4096 printable bytes
/// (surrounding whitespace ignored).
Result<std::string, std::string> readTokenFile(const std::string& path);

/// True when `text` is 1-20 decimal digits fitting uint64_t.
std::optional<uint64_t> parseId(std::string_view text);

}  // namespace tw::http
