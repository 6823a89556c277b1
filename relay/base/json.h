#pragma once
// Minimal JSON output helpers (the server only ever writes JSON).
#include <string>
#include <string_view>

namespace tw {

/// Returns `text` as a quoted JSON string. Control characters, quotes and
/// backslashes are escaped; bytes >= 0x80 are escaped as \u00XX so output
/// stays ASCII whatever a client sent.
std::string jsonString(std::string_view text);

}  // namespace tw
