#include "policy/secrets_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "policy/config_reader.h"
#include "relay/base/crypto.h"
#include "relay/base/files.h"
#include "relay/base/handle.h"

namespace tw::policy {
namespace {

using namespace config_detail;

std::string sysError(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string parentDir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

constexpr std::array<Field<std::vector<Secret>>, 1> kFileFields{{
    {"secrets", [](Reader& r, const Item& i, std::vector<Secret>& o) { o = readSecretList(r, i); }, true},
}};

tw::Result<std::vector<Secret>, std::vector<ConfigError>> parseSecretsText(std::string_view text,
                                                                           const std::string& path) {
  Reader r(path, parentDir(path));
  std::vector<Secret> secrets;
  if (auto root = r.load(text)) {
    Item item = rootItem(*root);
    if (root->IsNull()) {
      r.error(item, "the keyring file is empty: expected a 'secrets:' list");
    } else {
      readFields(r, item, kFileFields, secrets);
    }
  }
  if (r.failed()) return tw::err(r.takeErrors());
  return secrets;
}

tw::Result<std::string, std::string> render(const std::vector<Secret>& secrets) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "secrets" << YAML::Value << YAML::BeginSeq;
  for (const Secret& s : secrets) {
    out << YAML::BeginMap << YAML::Key << "id" << YAML::Value << YAML::DoubleQuoted << s.id;
    out << YAML::Key << "value" << YAML::Value << YAML::DoubleQuoted << s.value;
    if (s.notAfter) out << YAML::Key << "not_after" << YAML::Value << *s.notAfter;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  if (!out.good()) return tw::err("cannot encode the keyring as YAML: " + out.GetLastError());
  return std::string(
             "# turnwarden REST API keyring (auth.secrets_file). Keep it private: mode 0600.\n"
             "# Every listed secret verifies credentials; the first one mints new ones.\n"
             "# To rotate: add a new entry at the top, wait auth.max_ttl, remove the old one.\n") +
         out.c_str() + "\n";
}

bool sameSecrets(const std::vector<Secret>& a, const std::vector<Secret>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].value != b[i].value || a[i].notAfter != b[i].notAfter) return false;
  }
  return true;
}

/// Renders the keyring and proves it reads back identically, which also
/// applies every validation rule of loadSecretsFile() before anything is
/// written. Errors carry ids and positions only, never values.
tw::Result<std::string, std::string> renderChecked(const std::vector<Secret>& secrets,
                                                   const std::string& path) {
  auto text = render(secrets);
  if (!text) return text;
  auto back = parseSecretsText(text.value(), path);
  if (!back) return tw::err("refusing to write an invalid keyring: " + back.error().front().message);
  if (!sameSecrets(back.value(), secrets))
    return tw::err(std::string("keyring does not read back identically"));
  return text;
}

tw::Status<std::string> ensureParentDirs(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::filesystem::path partial;
  for (const auto& part : dir) {
    partial /= part;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST)
      return tw::err(sysError("cannot create " + partial.string()));
  }
  return {};
}

/// Writes everything, forces it to disk and closes `fd` (always, by hand:
/// close's own error is a write error here, which UniqueFd would drop).
tw::Status<std::string> writeAndSync(int fd, std::string_view content, const std::string& tmp) {
  bool ok = ::fchmod(fd, 0600) == 0;
  for (size_t done = 0; ok && done < content.size();) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  int savedErrno = errno;
  ok = (::close(fd) == 0) && ok;
  if (!ok) errno = savedErrno;
  if (!ok) return tw::err(sysError("cannot write " + tmp));
  return {};
}

/// Moves the finished temp file into place; without `replace` an existing
/// target is kept and reported.
tw::Status<std::string> publish(const std::string& tmp, const std::string& path, bool replace) {
  int rc = replace ? ::rename(tmp.c_str(), path.c_str())
                   : ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && !replace && (errno == EINVAL || errno == ENOSYS)) {
    // File systems without RENAME_NOREPLACE: link() also refuses to replace.
    rc = ::link(tmp.c_str(), path.c_str());
    if (rc == 0) ::unlink(tmp.c_str());
  }
  if (rc == 0) return {};
  if (errno == EEXIST) return tw::err(path + " already exists; refusing to overwrite it");
  return tw::err(sysError("cannot move the keyring into place at " + path));
}

tw::Status<std::string> syncDir(const std::string& dir) {
  const UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return tw::err(sysError("cannot open directory " + dir));
  if (::fsync(fd.get()) != 0) return tw::err(sysError("cannot sync directory " + dir));
  return {};
}

tw::Status<std::string> writeAtomically(const std::string& path, std::string_view content, bool replace) {
  if (auto dirs = ensureParentDirs(path); !dirs) return dirs;
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);  // created with mode 0600
  if (fd < 0) return tw::err(sysError("cannot create a temporary file next to " + path));
  auto done = writeAndSync(fd, content, tmp);
  if (done) done = publish(tmp, path, replace);
  if (!done) {
    ::unlink(tmp.c_str());
    return done;
  }
  return syncDir(parentDir(path));
}

std::string idFor(int64_t nowUnix) {
  std::time_t t = static_cast<std::time_t>(nowUnix);
  std::tm tm{};
  char buf[32];
  if (::gmtime_r(&t, &tm) == nullptr || std::strftime(buf, sizeof buf, "k%Y%m%d-%H%M%S", &tm) == 0) {
    return "k" + std::to_string(nowUnix);
  }
  return buf;
}

}  // namespace

tw::Result<std::vector<Secret>, std::vector<ConfigError>> loadSecretsFile(const std::string& path) {
  auto text = readRegularFile(path, /*privateOnly=*/true);
  if (!text) return tw::err(std::vector{ConfigError{path, 0, 0, "keyring refused: " + text.error()}});
  return parseSecretsText(text.value(), path);
}

tw::Result<std::vector<Secret>, std::string> generateSecretsFile(const std::string& path, tw::Random& rng,
                                                                 int64_t nowUnix) {
  std::array<uint8_t, 32> key{};
  rng.fill(key);
  Secret secret;
  secret.id = secretIdFor(nowUnix);
  secret.value = tw::hexEncode(key);
  key.fill(0);
  std::vector<Secret> secrets{secret};
  auto text = renderChecked(secrets, path);
  if (!text) return tw::err(text.error());
  if (auto written = writeAtomically(path, text.value(), /*replace=*/false); !written) {
    return tw::err(written.error());
  }
  return secrets;
}

std::string secretIdFor(int64_t nowUnix) { return idFor(nowUnix); }

tw::Result<std::vector<Secret>, std::vector<ConfigError>> parseKeyringText(std::string_view text,
                                                                           const std::string& origin) {
  return parseSecretsText(text, origin);
}

tw::Result<std::string, std::string> renderKeyringText(const std::vector<Secret>& secrets,
                                                       const std::string& origin) {
  return renderChecked(secrets, origin);
}

tw::Status<std::string> writeSecretsFile(const std::string& path, const std::vector<Secret>& secrets) {
  auto text = renderChecked(secrets, path);
  if (!text) return tw::err(text.error());
  return writeAtomically(path, text.value(), /*replace=*/true);
}

}  // namespace tw::policy
