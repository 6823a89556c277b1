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
/// CPU time of all of `pid`'s threads in seconds, to the nanosecond: the
/// sum of /proc/PID/task/*/schedstat (time on a CPU). For short windows,
/// where /proc/PID/stat's 10 ms ticks would be too coarse; a thread that
/// exits inside the window drops out of the sum, so use it only where the
/// server's threads are fixed (the allocations figure).
std::optional<double> cpuSecondsPrecise(pid_t pid);
/// Resident set size of `pid` in bytes, from /proc/PID/status (VmRSS).
std::optional<double> rssBytes(pid_t pid);

}  // namespace tw::bench
