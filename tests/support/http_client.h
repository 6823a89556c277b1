#pragma once
// A minimal HTTP/1.1 client for tests of the metrics and admin listeners:
// one request per connection, bounded by a timeout, loopback only.
#include <optional>
#include <string>

#include "relay/base/address.h"

namespace tw::testing {

struct HttpReply {
  int status = 0;
  std::string headers;
  std::string body;
};

/// Sends `method path` with optional extra header lines ("Name: value\r\n")
/// and body; nullopt on connect failure or timeout.
std::optional<HttpReply> httpRequest(const SocketAddress& server, const std::string& method,
                                     const std::string& path, const std::string& extraHeaders = {},
                                     const std::string& body = {}, int timeoutMs = 5000);

inline std::optional<HttpReply> httpGet(const SocketAddress& server, const std::string& path) {
  return httpRequest(server, "GET", path);
}

}  // namespace tw::testing
