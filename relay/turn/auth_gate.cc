// The one authentication gate every TURN request passes before dispatch
// (RFC 8489 §9.2.4, long-term credentials; TURN REST API usernames).
#include "policy/credentials.h"
#include "relay/stun/integrity.h"
#include "relay/turn/turn_server.h"

namespace tw::turn {

namespace {
constexpr size_t kMaxUsername = 512;
}

Outcome TurnServer::authenticate(Request& req) {
  const stun::Message& m = req.msg;
  if (!m.hasMessageIntegrity() && !m.hasMessageIntegritySha256()) return Outcome::error(401, "challenge");
  const auto* rawUser = m.find(stun::attr::Username);
  auto realm = m.realm();
  auto nonce = m.nonce();
  if (!rawUser || !realm || !nonce) return Outcome::error(400, "missing_attributes");
  // RFC 8489 §9.2.4 bid-down protection: PASSWORD-ALGORITHMS must match the list
  // sent with this NONCE. Challenges here offer none (MD5 only), so a request
  // naming algorithms was told of them by someone else: 400.
  if (m.find(stun::attr::PasswordAlgorithm) || m.find(stun::attr::PasswordAlgorithms))
    return Outcome::error(400, "password_algorithms_mismatch");
  auto username = m.username();
  auto fail = [&](policy::AuthFailure f, std::string_view name) {
    const Event failed{Event::Kind::AuthFailed, {}, policy::toString(f), name};
    return Outcome::error(f == policy::AuthFailure::StaleNonce ? 438 : 401, policy::toString(f)).with(failed);
  };
  if (!username || username->empty() || username->size() > kMaxUsername)
    return fail(policy::AuthFailure::MalformedUsername, "");
  if (deps_.nonces.verify(*nonce, req.tuple.client.ip, req.now, macs_) != policy::NonceStatus::Valid)
    return fail(policy::AuthFailure::StaleNonce, *username);
  // Each listener serves one realm (listeners[].realm): REALM must be it, and
  // only that realm's users and keyring may vouch for the request.
  if (*realm != policy_->realmFor(req.tuple)) return fail(policy::AuthFailure::UnknownUser, *username);
  if (const auto* su = policy::findStaticUser(policy_->usersFor(*realm), *username)) {
    if (!stun::verifyMessageIntegrity(m, su->key, macs_) &&
        !stun::verifyMessageIntegritySha256(m, su->key, macs_))
      return fail(policy::AuthFailure::BadIntegrity, *username);
    req.auth = AuthContext{std::string(*username), std::string(*username), su->key};
    return Outcome::success();
  }
  return authenticateRest(req, *username);
}

Outcome TurnServer::authenticateRest(Request& req, std::string_view username) {
  auto fail = [&](policy::AuthFailure f) {
    const Event failed{Event::Kind::AuthFailed, {}, policy::toString(f), username};
    return Outcome::error(401, policy::toString(f)).with(failed);
  };
  auto rest = policy::parseRestUsername(username);
  if (!rest) return fail(rest.error());
  const int64_t nowUnix = deps_.clock.unixSeconds();
  auto fresh =
      policy::checkRestExpiry(rest.value(), {nowUnix, policy_->maxTtlSeconds, policy_->clockSkewSeconds});
  if (!fresh) return fail(fresh.error());
  // Every usable secret of the realm's keyring, up to 32: a rotation every
  // 30 s (scripts/soak) keeps ~20 in their grace within 10 minutes. Another
  // realm's secrets are never tried, so tenants' credentials stay apart.
  const std::string& realm = policy_->realmFor(req.tuple);
  const policy::Keyring* keyring = policy_->keyringFor(realm);
  if (!keyring) return fail(policy::AuthFailure::UnknownUser);
  std::array<std::array<uint8_t, 16>, 32> keys;
  const size_t n = std::min(keys.size(), keyring->candidateKeys(username, realm, nowUnix, keys, macs_));
  const bool sha256 = req.msg.hasMessageIntegritySha256();
  for (size_t i = 0; i < n; ++i) {
    // Try every secret in the keyring (rotation); each compare is constant-time.
    const bool ok = sha256 ? stun::verifyMessageIntegritySha256(req.msg, keys[i], macs_)
                           : stun::verifyMessageIntegrity(req.msg, keys[i], macs_);
    if (!ok) continue;
    req.auth = AuthContext{std::string(username), std::string(rest->user), keys[i]};
    return Outcome::success();
  }
  return fail(policy::AuthFailure::BadIntegrity);
}

}  // namespace tw::turn
