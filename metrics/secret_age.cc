#include "metrics/secret_age.h"

#include <cctype>
#include <ctime>

namespace tw::metrics {

std::optional<int64_t> secretCreatedFromId(std::string_view id) {
  // "k" + 8 digits + "-" + 6 digits, then nothing or "-<digits>".
  constexpr size_t kLen = 16;
  if (id.size() < kLen || id[0] != 'k' || id[9] != '-') return std::nullopt;
  const std::string_view rest = id.substr(kLen);
  if (!rest.empty() && (rest.size() < 2 || rest[0] != '-')) return std::nullopt;
  for (size_t i = 1; i < rest.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(rest[i]))) return std::nullopt;
  std::tm tm{};
  const std::string head(id.substr(0, kLen));
  const char* end = ::strptime(head.c_str(), "k%Y%m%d-%H%M%S", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(::timegm(&tm));
}

bool SecretAge::observe(const std::vector<policy::Secret>& secrets, std::optional<int64_t> fileMtime,
                        int64_t nowUnix) {
  if (secrets.empty()) return false;
  const std::string& id = secrets.front().id;
  if (mintingId_ == id) return false;
  const bool rotated = mintingId_.has_value();
  mintingId_ = id;
  created_ = secretCreatedFromId(id).value_or(fileMtime.value_or(nowUnix));
  return rotated;
}

std::optional<double> SecretAge::ageSeconds(int64_t nowUnix) const {
  if (!mintingId_) return std::nullopt;
  return nowUnix > created_ ? double(nowUnix - created_) : 0.0;
}

}  // namespace tw::metrics
