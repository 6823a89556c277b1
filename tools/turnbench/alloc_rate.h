#pragma once
// The allocations/s figure: authenticated allocations made as fast as the
// server answers. One generator thread keeps `inFlight` fresh clients
// (each its own UDP socket, so its own 5-tuple) in the middle of the
// RFC 8656 §7.2 exchange at once: Allocate, 401 with REALM and NONCE, the
// signed Allocate, success. The generator never sleeps while an answer is
// owed, so the figure measures the server, not the wake-ups of blocked
// client threads (on this VM class, waking a sleeping thread through a
// socket costs the sender an IPI, which the earlier 8-blocking-thread
// generator charged to the server).
//
// Afterwards every allocation is released (signed Refresh LIFETIME=0), in
// the same pipelined way, so the next figure finds the server's ports free.
// Traffic goes only to `server` (loopback in scripts/bench); every wait is
// bounded (a retransmit after 500 ms, at most 4 sends per request).
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
};

struct AllocRateResult {
  int ok = 0;
  int failed = 0;
  std::map<int, int> failedCodes;  ///< ERROR-CODE (-1: no answer) -> count
  int retransmits = 0;
  int mismatches = 0;  ///< 437s retried from a new socket
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
