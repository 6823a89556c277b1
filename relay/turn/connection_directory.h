#pragma once
// The CONNECTION-ID -> worker map of TCP relay (RFC 6062), shared by every
// worker. A ConnectionBind arrives on a new client connection, which
// SO_REUSEPORT may give to any worker; this map says which worker owns the
// peer connection, and gates the bind (right user, Pending, only once) for
// the local and the cross-worker case alike. One mutex, taken only on
// Connect, on a peer's connection, on ConnectionBind and when a connection
// ends: never per relayed byte.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "relay/base/random.h"

namespace tw::turn {

class ConnectionDirectory {
 public:
  /// A fresh CONNECTION-ID owned by `worker` for `user`: from the CSPRNG,
  /// never 0, never one in use by any worker. It cannot be bound until
  /// markPending().
  uint32_t claim(Random& rng, uint32_t worker, std::string_view user);
  /// The peer connection is up: a ConnectionBind may take it now.
  void markPending(uint32_t id);
  /// ConnectionBind for `id` by `user`: the owning worker when `id` is
  /// Pending and was made for `user` (the id becomes bound, so a second
  /// bind fails); nullopt otherwise (unknown id, other user, not yet
  /// connected, already bound: the same answer for all).
  std::optional<uint32_t> takeForBind(uint32_t id, std::string_view user);
  /// The connection ended.
  void release(uint32_t id);
  size_t size() const;

 private:
  enum class State : uint8_t { Claimed, Pending, Bound };
  struct Entry {
    uint32_t worker = 0;
    State state = State::Claimed;
    std::string user;
  };
  mutable std::mutex mu_;
  std::unordered_map<uint32_t, Entry> entries_;
};

}  // namespace tw::turn
