#pragma once
// One usage record (docs/usage.md, schema 1): what one allocation relayed in
// one period. Interim records come every usage.interval, the final one when
// the allocation ends; the counts of an allocation's records add up to its
// totals, which every record also carries.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/result.h"

namespace tw::usage {

inline constexpr int kSchemaVersion = 1;

/// Bytes and packets one way and the other.
struct Traffic {
  uint64_t bytesToPeer = 0, bytesToClient = 0;
  uint64_t packetsToPeer = 0, packetsToClient = 0;
  uint64_t bytes() const { return bytesToPeer + bytesToClient; }
  Traffic operator-(const Traffic& o) const {
    return {bytesToPeer - o.bytesToPeer, bytesToClient - o.bytesToClient, packetsToPeer - o.packetsToPeer,
            packetsToClient - o.packetsToClient};
  }
  Traffic& operator+=(const Traffic& o) {
    bytesToPeer += o.bytesToPeer;
    bytesToClient += o.bytesToClient;
    packetsToPeer += o.packetsToPeer;
    packetsToClient += o.packetsToClient;
    return *this;
  }
  bool operator==(const Traffic&) const = default;
};

struct UsageRecord {
  bool final = false;    ///< "type": "final" or "interim"
  std::string recordId;  ///< NODE-BOOT-ALLOCATION-SEQ, unique per record
  std::string node;
  uint64_t allocationId = 0;
  uint32_t seq = 0;  ///< 0, 1, ... per allocation; the final is the last
  std::string realm;
  std::string user;       ///< REST user part (a JWT's `sub` as the endpoint mapped it)
  std::string username;   ///< the whole USERNAME
  std::string client;     ///< client IP:port
  std::string transport;  ///< udp, tcp, tls, dtls
  std::vector<std::string> relayed;
  int64_t start = 0;        ///< Unix seconds: the allocation's creation
  int64_t periodStart = 0;  ///< this record's period
  int64_t periodEnd = 0;
  Traffic period;         ///< relayed in this period
  Traffic total;          ///< relayed since the allocation began
  uint32_t peers = 0;     ///< distinct peer IPs granted a permission
  uint32_t channels = 0;  ///< channels bound
  std::string endReason;  ///< final only: expired, deleted, shutdown, ...
};

/// "2026-12-08T01:43:00Z".
std::string isoTime(int64_t unixSeconds);
/// The record as one JSON line ending in '\n'.
std::string formatRecord(const UsageRecord& r);
/// Reads a line formatFormat wrote (any key order; unknown keys ignored);
/// the error names what is wrong.
Result<UsageRecord, std::string> parseRecord(std::string_view line);

}  // namespace tw::usage
