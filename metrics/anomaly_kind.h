#pragma once
// The anomaly kinds, declared once: the detectors fire them, the folder
// pre-creates one anomalies_total series per kind from this enum, and the
// event log writes the same names.
#include <cstdint>
#include <string_view>

namespace tw::metrics {

enum class AnomalyKind : uint8_t {
  BruteForce,
  RelayScan,
  BandwidthSpike,
  TotalBandwidth,
  AllocationChurn,
  DeniedPeerBurst,
  CredentialSharing,
  kCount
};
/// The `kind` label of anomalies_total and of anomaly events.
std::string_view toString(AnomalyKind k);

/// What the server does about an anomaly beyond reporting it; the detector
/// decides from its settings, the app carries it out.
enum class AnomalyAction : uint8_t {
  Report,
  EndAllocation,  ///< anomalies.scan_revoke on a relay_scan: end allocationId
};

}  // namespace tw::metrics
