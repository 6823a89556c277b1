#pragma once
// The allocations/s figure: authenticated allocations made as fast as the
// server answers. One generator thread keeps `inFlight` fresh clients in
// the middle of the RFC 8656 §7.2 exchange at once: Allocate, 401 with
// REALM and NONCE, the signed Allocate, success. Each client has its own
// 5-tuple, in one of two ways:
//   one   (the figure of record) all on 127.0.0.1, each with a socket of
//         its own, made and connected before the timed part; answers found
//         with epoll;
//   many  each from its own address in 127/8, all on one socket
//         (IP_PKTINFO), in sendmmsg/recvmmsg batches: clients from many
//         addresses, as on the Internet.
// Either way the generator costs less than the server per allocation, so
// the server's core is the bound. (The earlier generator made a socket,
// connected it and ran an empty recv per allocation inside the timed part:
// its own core was the bound.)
//
// Afterwards every allocation is released (signed Refresh LIFETIME=0), in
// the same pipelined way, so the next figure finds the server's ports free.
// Traffic goes only to `server` (a loopback address in scripts/bench);
// every wait is bounded (a retransmit after 500 ms, at most 4 sends per
// request).
#include <sys/types.h>

#include <map>
#include <string>

#include "relay/base/address.h"

namespace tw::bench {

struct AllocRateOptions {
  SocketAddress server;
  std::string secret;  ///< the REST shared secret (use-auth-secret)
  int allocations = 2000;
  int inFlight = 32;
  pid_t serverPid = 0;  ///< > 0: report the server's CPU per allocation
  /// Polls (non-blocking receives) this long before sleeping for answers.
  /// On loopback a datagram's sender also runs its receiver's wake-up; on
  /// this VM class that is an inter-processor interrupt, about 2.5 us of
  /// the server's CPU per allocation, a cost no remote client imposes. With
  /// the generator on a core of its own (scripts/bench pins it), spinning
  /// removes it for every server alike. 0: always sleep.
  int spinUs = 0;
  /// Clients from many 127/8 addresses (IPv4 only), not all from one.
  bool manyAddresses = false;
};

struct AllocRateResult {
  int ok = 0;
  int failed = 0;
  std::map<int, int> failedCodes;  ///< ERROR-CODE (-1: no answer) -> count
  int retransmits = 0;
  int mismatches = 0;  ///< 437s retried from a new 5-tuple
  int released = 0;
  double seconds = 0;
  double serverCpuSeconds = -1;  ///< < 0: unknown
};

/// A TURN REST user name valid for an hour; `tag` keeps users apart so that
/// quotas.per_user (default 10) does not cap a run.
std::string restUser(const std::string& tag);

/// Runs the timed allocations, then releases them.
AllocRateResult measureAllocationRate(const AllocRateOptions& o);

/// Prints the figures scripts/bench records (allocations_per_second,
/// server_cpu_us_per_allocation) and the counts behind them.
void printAllocationRate(const AllocRateResult& r, int requested);

}  // namespace tw::bench
