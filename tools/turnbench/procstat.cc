#include "tools/turnbench/procstat.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tw::bench {

std::optional<CpuTimes> cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // Field 2 (comm) may hold spaces: count fields after its closing paren.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  const double tick = double(::sysconf(_SC_CLK_TCK));
  return CpuTimes{double(utime) / tick, double(stime) / tick};
}

std::optional<double> cpuSecondsPrecise(pid_t pid) {
  std::error_code ec;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  unsigned long long ns = 0;
  bool any = false;
  for (const auto& t : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream in(t.path() / "schedstat");
    unsigned long long onCpu = 0;
    if (in >> onCpu) ns += onCpu, any = true;
  }
  if (ec || !any) return std::nullopt;
  return double(ns) / 1e9;
}

std::optional<double> rssBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      double kb = 0;
      in >> kb;
      return kb * 1024;
    }
    std::string skip;
    std::getline(in, skip);
  }
  return std::nullopt;
}

}  // namespace tw::bench
