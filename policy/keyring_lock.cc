#include "policy/keyring_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "policy/rotation.h"
#include "policy/secrets_file.h"

namespace tw::policy {
namespace {

/// Opens (creating, mode 0600) the lock file without following a symlink
/// or blocking on a FIFO planted at its name.
Result<UniqueFd, std::string> openLockFile(const std::string& lockPath) {
  UniqueFd fd(::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600));
  if (!fd) return tw::err("cannot open " + lockPath + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return tw::err(lockPath + " is not a regular file");
  return fd;
}

}  // namespace

std::string keyringLockPath(const std::string& keyringPath) { return keyringPath + ".lock"; }

Result<KeyringLock, std::string> KeyringLock::acquire(const std::string& keyringPath,
                                                      tw::Duration timeout) {
  const std::string lockPath = keyringLockPath(keyringPath);
  auto fd = openLockFile(lockPath);
  if (!fd) return tw::err(fd.error());
  KeyringLock lock(std::move(fd.value()));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (::flock(lock.fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return tw::err("cannot lock " + lockPath + ": " + std::strerror(errno));
    if (std::chrono::steady_clock::now() >= deadline)
      return tw::err(lockPath + " is held by another keyring writer; gave up waiting");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return lock;
}

Result<KeyringUpdate, std::string> updateSecretsFile(const std::string& path, const KeyringEdit& edit,
                                                     tw::Duration timeout) {
  auto lock = KeyringLock::acquire(path, timeout);
  if (!lock) return tw::err(lock.error());
  auto loaded = loadSecretsFile(path);  // under the lock: the latest writer's keyring
  if (!loaded) return tw::err(formatErrors(loaded.error()));
  KeyringUpdate out;
  auto next = edit(loaded.value());
  if (next) {
    if (auto st = writeSecretsFile(path, *next); !st) return tw::err(st.error());
    out.secrets = std::move(*next);
    out.written = true;
  } else {
    out.secrets = std::move(loaded.value());
  }
  out.stampNs = fileStampNs(path).value_or(0);
  return out;
}

}  // namespace tw::policy
