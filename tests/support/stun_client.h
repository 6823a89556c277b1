#pragma once
// A small STUN/TURN client for tests, built on the project's codec. It talks
// to a real server over real loopback sockets: either the turnwarden binary
// (e2e tests) or an in-process io::Worker, whose loop `pump` runs while the
// client waits.
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "relay/base/address.h"
#include "relay/io/handles.h"
#include "relay/io/stream_framer.h"
#include "relay/stun/builder.h"
#include "relay/stun/message.h"
#include "tests/support/long_term_auth.h"

namespace tw::testing {

struct Reply {
  std::vector<uint8_t> bytes;
  /// 0 for a success response, else the ERROR-CODE.
  int code = -1;
  stun::Message msg() const { return stun::decode(bytes).value(); }
};

class StunClient {
 public:
  using Pump = std::function<void()>;
  using AddAttrs = std::function<void(stun::MessageBuilder&)>;

  explicit StunClient(SocketAddress server, Pump pump = {},
                      SocketAddress local = *SocketAddress::parse("127.0.0.1:0"));
  /// The same client over one TCP connection (RFC 8656 §3.7): requests and
  /// ChannelData are written to the stream, replies are cut out of it with
  /// the server's own framer. Connecting to loopback completes in the kernel,
  /// so no pumping is needed before the first send.
  static StunClient tcp(SocketAddress server, Pump pump = {},
                        SocketAddress local = *SocketAddress::parse("127.0.0.1:0"));
  SocketAddress local() const { return local_; }
  /// The socket, for callers that poll many clients at once (turnbench).
  int fd() const { return fd_.get(); }
  /// Stream mode: pumps until the server closes the connection (EOF or
  /// reset); false if it is still open after timeoutMs.
  bool waitClosed(int timeoutMs);

  void send(std::span<const uint8_t> bytes);
  std::optional<std::vector<uint8_t>> receive(int timeoutMs);
  /// Sends and waits for the response carrying the same transaction id.
  std::optional<Reply> transact(std::span<const uint8_t> request, int timeoutMs = 2000);

  /// Long-term credentials used by request(); empty username: no auth.
  void setCredentials(std::string username, std::string password);
  /// Sends a request, answering a 401/438 challenge once with credentials.
  std::optional<Reply> request(stun::Method method, const AddAttrs& add = {});

  std::optional<Reply> allocate(const AddAttrs& extra = {});
  /// Allocate with REQUESTED-TRANSPORT TCP (RFC 6062).
  std::optional<Reply> allocateTcp(const AddAttrs& extra = {});
  /// RFC 6062 Connect to `peer`; a success carries CONNECTION-ID.
  std::optional<Reply> connect(const SocketAddress& peer);
  /// A request with this client's credentials and latest nonce, for sending
  /// on another connection (ConnectionBind on a data connection).
  std::vector<uint8_t> authenticatedRequest(stun::Method method, const AddAttrs& add);
  std::optional<Reply> createPermission(const SocketAddress& peer);
  std::optional<Reply> channelBind(uint16_t channel, const SocketAddress& peer);
  std::optional<Reply> refresh(uint32_t lifetime);
  void sendIndication(const SocketAddress& peer, std::span<const uint8_t> data);

  stun::TransactionId newTransactionId();
  const std::string& username() const { return auth_.username; }
  const std::string& nonce() const { return auth_.nonce; }
  const std::string& realm() const { return auth_.realm; }

 private:
  std::vector<uint8_t> build(stun::Method method, const stun::TransactionId& txn, const AddAttrs& add,
                             bool withAuth);

  std::optional<std::vector<uint8_t>> receiveFrame(int timeoutMs);

  SocketAddress server_;
  Pump pump_;
  bool stream_ = false;
  std::shared_ptr<io::StreamFramer> framer_;
  std::deque<std::vector<uint8_t>> frames_;
  io::UniqueFd fd_;
  SocketAddress local_;
  LongTermAuth auth_;
  uint64_t txnCounter_ = 1;
};

}  // namespace tw::testing
