// libFuzzer target: `turnwarden import-coturn`, the coturn config importer.
// Its promise (relay/app/import_coturn.h): whatever the input, the YAML it
// writes passes turnwarden's own validation, because values turnwarden
// would refuse are left out with a warning. Invariants: the output parses
// with parseConfig without a single error; every warning names the input
// file.
#include <cstdio>
#include <string>

#include "policy/config.h"
#include "relay/app/import_coturn.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view conf(reinterpret_cast<const char*>(data), size);
  const auto out = tw::app::importCoturn(conf, "turnserver.conf", "/fuzz/secrets.yaml");
  auto parsed = tw::policy::parseConfig(out.yaml, "/fuzz/turnwarden.yaml");
  if (!parsed) {
    std::fprintf(stderr, "import-coturn wrote YAML that fails validation:\n%s\n--- errors:\n%s",
                 out.yaml.c_str(), tw::policy::formatErrors(parsed.error()).c_str());
  }
  FUZZ_CHECK(parsed.ok());
  for (const auto& w : out.warnings) FUZZ_CHECK(w.rfind("turnserver.conf:", 0) == 0);
  return 0;
}
