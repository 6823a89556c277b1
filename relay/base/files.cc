#include "relay/base/files.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "relay/base/handle.h"

namespace tw {

namespace {

std::optional<std::string> checkOpenedFile(const struct stat& st, bool privateOnly) {
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  if (privateOnly && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return "mode " + std::string(mode) + " gives group/other access; it must be private (chmod 600)";
  }
  return std::nullopt;
}

}  // namespace

Result<std::string, std::string> readRegularFile(const std::string& path, bool privateOnly) {
  UniqueFd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)};
  struct stat st {};
  if (!f || ::fstat(f.get(), &st) != 0) return err(std::string("cannot open: ") + std::strerror(errno));
  if (auto why = checkOpenedFile(st, privateOnly)) return err(*why);
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(f.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return err(std::string("read error: ") + std::strerror(errno));
    if (n == 0) return text;
    if (text.size() + static_cast<size_t>(n) > (16u << 20)) return err(std::string("larger than 16 MiB"));
    text.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace tw
