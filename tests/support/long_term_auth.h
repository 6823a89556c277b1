#pragma once
// Long-term credentials as a client uses them (RFC 8489 §9.2): the request
// builder and the challenge step, shared by StunClient (real sockets) and
// PipelineClient (the socket-less pipeline).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "relay/base/crypto.h"
#include "relay/base/mac_engine.h"
#include "relay/stun/builder.h"
#include "relay/stun/integrity.h"
#include "relay/stun/message.h"

namespace tw::testing {

struct LongTermAuth {
  using AddAttrs = std::function<void(stun::MessageBuilder&)>;
  std::string username, password, realm, nonce;
  /// Reused OpenSSL state for the MACs (turnbench signs thousands of
  /// requests); null: a one-shot engine per request.
  MacEngine* engine = nullptr;

  /// A nonce to sign with is known.
  bool ready() const { return !nonce.empty() && !username.empty(); }

  /// A 401/438 answer worth retrying with credentials: takes its REALM and NONCE.
  bool learn(int code, const stun::Message& answer) {
    if ((code != 401 && code != 438) || username.empty()) return false;
    if (!answer.realm() || !answer.nonce()) return false;
    realm = std::string(*answer.realm());
    nonce = std::string(*answer.nonce());
    return true;
  }

  /// A request with `add`'s attributes, signed when `withAuth`, with FINGERPRINT.
  std::vector<uint8_t> build(stun::Method method, const stun::TransactionId& txn, const AddAttrs& add,
                             bool withAuth) const {
    std::vector<uint8_t> out;
    stun::MessageBuilder b(out, method, stun::MessageClass::Request, txn);
    if (add) add(b);
    if (withAuth) {
      b.addString(stun::attr::Username, username);
      b.addString(stun::attr::Realm, realm);
      b.addString(stun::attr::Nonce, nonce);
      std::optional<MacEngine> oneShot;
      MacEngine& e = engine ? *engine : oneShot.emplace();
      b.addMessageIntegrity(longTermKeyMd5(e, username, realm, password), e);
    }
    b.addFingerprint();
    return {b.bytes().begin(), b.bytes().end()};
  }
};

}  // namespace tw::testing
