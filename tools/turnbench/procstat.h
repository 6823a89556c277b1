#pragma once
// What scripts/bench reads about the server process from /proc.
#include <sys/types.h>

#include <optional>

namespace tw::bench {

struct CpuTimes {
  double user = 0;    ///< utime, seconds (all threads)
  double system = 0;  ///< stime, seconds (all threads)
  double total() const { return user + system; }
};
/// utime and stime of `pid` from /proc/PID/stat.
std::optional<CpuTimes> cpuSeconds(pid_t pid);
/// Resident set size of `pid` in bytes, from /proc/PID/status (VmRSS).
std::optional<double> rssBytes(pid_t pid);

}  // namespace tw::bench
