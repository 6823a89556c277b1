#pragma once
// The allocations/s figure: authenticated allocations made as fast as the
// server answers. One generator thread keeps `inFlight` fresh clients in
// the middle of the RFC 8656 §7.2 exchange at once: Allocate, 401 with
// REALM and NONCE, the signed Allocate, success. Each client has its own
// 5-tuple: its own source address in 127/8 on the generator's one UDP
// socket (IP_PKTINFO), as real clients come from many addresses. Requests
// and answers go in batches (sendmmsg, recvmmsg), so the generator costs
// less than half of what the server does per allocation (and release), and
// the server's core is the bound. (A socket per client made the generator's core the
// bound: a socket, a connect and an empty recv per allocation.)
//
// Afterwards every allocation is released (signed Refresh LIFETIME=0), in
// the same pipelined way, so the next figure finds the server's ports free.
// Traffic goes only to `server` (an IPv4 loopback address in scripts/bench)
// from 127/8; every wait is bounded (a retransmit after 500 ms, at most 4
// sends per request).
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
  int mismatches = 0;  ///< 437s retried from a new address
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
