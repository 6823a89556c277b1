#pragma once
// The HttpOptions of every HTTP listener of the server (metrics, admin,
// credentials) from the config's http: section, with deadline closures
// reported through the server's log.
#include "policy/config.h"
#include "relay/base/log.h"
#include "relay/http/http_server.h"

namespace tw::app {

http::HttpOptions httpOptions(const policy::HttpLimitsConfig& limits, Logger& log);

}  // namespace tw::app
