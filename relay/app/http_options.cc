#include "relay/app/http_options.h"

namespace tw::app {

http::HttpOptions httpOptions(const policy::HttpLimitsConfig& limits, Logger& log) {
  http::HttpOptions o;
  o.connectionLimit = limits.maxConnections;
  o.connectionsPerIp = limits.connectionsPerIp;
  o.requestDeadline = std::chrono::duration_cast<std::chrono::milliseconds>(limits.requestTimeout);
  o.warn = [&log](const std::string& line) { log.warn(line); };
  return o;
}

}  // namespace tw::app
