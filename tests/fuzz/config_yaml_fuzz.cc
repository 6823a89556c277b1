// libFuzzer target: the YAML config loader (yaml-cpp, then turnwarden's
// validation), as `turnwarden check-config` and every reload run it.
// Invariants: parseConfig returns a Config or a list of errors, never throws
// (yaml-cpp's exceptions are caught at the boundary) and never crashes; each
// error names a file and a message; an accepted config passes again when
// parsed a second time (validation is a pure function of the text).
#include <string_view>

#include "policy/config.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = tw::policy::parseConfig(text, "/fuzz/turnwarden.yaml");
  if (!config) {
    FUZZ_CHECK(!config.error().empty());
    for (const auto& e : config.error()) {
      FUZZ_CHECK(!e.file.empty());
      FUZZ_CHECK(!e.message.empty());
      FUZZ_CHECK(e.line >= 0 && e.column >= 0);
    }
    return 0;
  }
  FUZZ_CHECK(tw::policy::parseConfig(text, "/fuzz/turnwarden.yaml").ok());
  return 0;
}
