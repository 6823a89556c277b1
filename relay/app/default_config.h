#pragma once
#include <string_view>

namespace tw::app {

/// The text of etc/turnwarden.yaml as it was at build time.
std::string_view defaultConfigText();

}  // namespace tw::app
