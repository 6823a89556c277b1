#include "policy/secrets_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "relay/base/random.h"

using namespace tw::policy;

namespace {

/// A mkdtemp directory under /tmp, removed with its contents at scope exit.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/tw_secrets_test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text, mode_t mode) const {
    std::string p = path + "/" + name;
    std::ofstream(p) << text;
    REQUIRE(::chmod(p.c_str(), mode) == 0);
    return p;
  }
  size_t entries() const {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(path)) n += e.exists() ? 1 : 0;
    return n;
  }
};

mode_t modeOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Secret secret(std::string id, std::string value, std::optional<int64_t> notAfter = std::nullopt) {
  Secret s;
  s.id = std::move(id);
  s.value = std::move(value);
  s.notAfter = notAfter;
  return s;
}

bool isLowerHex(const std::string& s) { return s.find_first_not_of("0123456789abcdef") == std::string::npos; }

}  // namespace

TEST_CASE("generateSecretsFile writes a private 256-bit keyring that loads back", "[secrets]") {
  TempDir dir;
  std::string path = dir.path + "/state/keys/secrets.yaml";  // parents do not exist yet
  tw::SeededRandom rng(42);
  auto generated = generateSecretsFile(path, rng, 1'700'000'000);  // 2023-11-14 22:13:20 UTC
  REQUIRE(generated.ok());
  REQUIRE(generated->size() == 1);
  const Secret& s = generated->front();
  CHECK(s.id == "k20231114-221320");
  CHECK(s.value.size() == 64);
  CHECK(isLowerHex(s.value));
  CHECK_FALSE(s.notAfter);

  CHECK(modeOf(path) == 0600);
  CHECK(modeOf(dir.path + "/state") == 0700);
  CHECK(modeOf(dir.path + "/state/keys") == 0700);

  auto loaded = loadSecretsFile(path);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->size() == 1);
  CHECK(loaded->front().id == s.id);
  CHECK(loaded->front().value == s.value);
  // Only the keyring is left behind: no temporary files.
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path + "/state/keys"),
                      std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("generated secrets come from the injected random source", "[secrets]") {
  TempDir dir;
  tw::SeededRandom a(1), b(2);
  auto first = generateSecretsFile(dir.path + "/a.yaml", a, 0);
  auto second = generateSecretsFile(dir.path + "/b.yaml", b, 0);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->front().value != second->front().value);
  CHECK(first->front().id == "k19700101-000000");
}

TEST_CASE("generateSecretsFile never replaces an existing keyring", "[secrets]") {
  TempDir dir;
  std::string path = dir.write("secrets.yaml", "existing", 0600);
  tw::SeededRandom rng(3);
  auto r = generateSecretsFile(path, rng, 1'700'000'000);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find("already exists") != std::string::npos);
  CHECK(slurp(path) == "existing");
  CHECK(dir.entries() == 1);  // the temporary file was removed
}

TEST_CASE("a keyring with any group or other permission bit is refused", "[secrets]") {
  TempDir dir;
  std::string body = "secrets:\n  - {id: k1, value: \"0123456789abcdef0123456789abcdef\"}\n";
  for (mode_t mode : {0640, 0604, 0644, 0660, 0601, 0610}) {
    std::string path = dir.write("secrets.yaml", body, mode);
    auto r = loadSecretsFile(path);
    INFO("mode " << std::oct << mode);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.error().size() == 1);
    CHECK(r.error()[0].file == path);
    CHECK(r.error()[0].line == 0);
    CHECK(r.error()[0].message.find("group/other") != std::string::npos);
    CHECK(r.error()[0].format().find("0123456789abcdef") == std::string::npos);
  }
  for (mode_t mode : {0600, 0400}) {
    std::string path = dir.write("secrets.yaml", body, mode);
    CHECK(loadSecretsFile(path).ok());
  }
}

TEST_CASE("a missing or non-regular keyring is refused", "[secrets]") {
  TempDir dir;
  auto missing = loadSecretsFile(dir.path + "/none.yaml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error()[0].format().rfind(dir.path + "/none.yaml: keyring refused: cannot open", 0) == 0);
  ::chmod(dir.path.c_str(), 0700);
  auto directory = loadSecretsFile(dir.path);
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.error()[0].message.find("not a regular file") != std::string::npos);
}

TEST_CASE("a malformed keyring is refused with file, line and column", "[secrets]") {
  TempDir dir;
  std::string path = dir.write("secrets.yaml",
                               "# keyring\n"
                               "secrets:\n"
                               "  - {id: k1, value: \"0123456789abcdef0123456789abcdef\"}\n"
                               "  - id: k2\n"
                               "    valeu: \"ABCDEFGHIJKLMNOPQRSTUVWXYZ\"\n",
                               0600);
  auto r = loadSecretsFile(path);
  REQUIRE_FALSE(r.ok());
  std::string text = formatErrors(r.error());
  INFO(text);
  CHECK(text.find(path + ":5:5: secrets[1]: unknown key 'valeu' (did you mean 'value'?)") !=
        std::string::npos);
  CHECK(text.find(path + ":4:5: secrets[1]: missing required key 'value'") != std::string::npos);
  CHECK(text.find("ABCDEFGHIJ") == std::string::npos);

  dir.write("secrets.yaml", "secrets: [\n", 0600);
  auto syntax = loadSecretsFile(path);
  REQUIRE_FALSE(syntax.ok());
  CHECK(syntax.error()[0].line == 2);
  CHECK(syntax.error()[0].message.find("YAML syntax error") == 0);

  // A bad escape inside a value: the parser's message must not quote it.
  dir.write("secrets.yaml", "secrets:\n  - {id: k1, value: \"0123456789\\qSECRET\"}\n", 0600);
  auto escape = loadSecretsFile(path);
  REQUIRE_FALSE(escape.ok());
  CHECK(escape.error()[0].format() == path + ":2:34: YAML syntax error: unknown escape character");

  dir.write("secrets.yaml", "keys: []\n", 0600);
  auto wrongKey = loadSecretsFile(path);
  REQUIRE_FALSE(wrongKey.ok());
  CHECK(formatErrors(wrongKey.error()).find(path + ":1:1: unknown key 'keys'") != std::string::npos);
  CHECK(formatErrors(wrongKey.error()).find(path + ":1:1: missing required key 'secrets'") !=
        std::string::npos);

  dir.write("secrets.yaml", "# just a comment\n", 0600);
  auto empty = loadSecretsFile(path);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error()[0].message.find("the keyring file is empty") != std::string::npos);
}

TEST_CASE("secret values in a keyring never appear in its errors", "[secrets]") {
  TempDir dir;
  std::string path = dir.write("secrets.yaml",
                               "secrets:\n"
                               "  - {id: k1, value: SECRET-short}\n"
                               "  - {id: k2, value: \"SECRET-long-enough-value\"}\n"
                               "  - {id: k3, value: \"SECRET-long-enough-value\"}\n"
                               "  - {id: k4, value: {nested: SECRET-in-a-map}}\n",
                               0600);
  auto r = loadSecretsFile(path);
  REQUIRE_FALSE(r.ok());
  std::string text = formatErrors(r.error());
  INFO(text);
  CHECK(r.error().size() == 3);
  CHECK(text.find("SECRET") == std::string::npos);
  CHECK(text.find(path + ":2:21: secrets[0].value: secret value is shorter than 16 bytes") !=
        std::string::npos);
  CHECK(text.find(path + ":4:21: secrets[2].value: same secret value as secrets[1]") != std::string::npos);
}

TEST_CASE("writeSecretsFile replaces a keyring atomically and it round-trips", "[secrets]") {
  TempDir dir;
  std::string path = dir.write("secrets.yaml", "old contents", 0644);
  std::vector<Secret> keys{
      secret("k2", "new: \"quoted\" # not a comment \\ backslash"),
      secret("k1.old", "0123456789abcdef0123456789abcdef", 1'767'225'600),
  };
  auto w = writeSecretsFile(path, keys);
  REQUIRE(w.ok());
  CHECK(modeOf(path) == 0600);  // a new inode, not the old 0644 one
  CHECK(dir.entries() == 1);
  auto loaded = loadSecretsFile(path);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->size() == 2);
  CHECK(loaded.value()[0].value == keys[0].value);
  CHECK(loaded.value()[1].id == "k1.old");
  CHECK(loaded.value()[1].notAfter == 1'767'225'600);
  CHECK(slurp(path).rfind("# turnwarden REST API keyring", 0) == 0);
}

TEST_CASE("writeSecretsFile refuses a keyring that could not be loaded back", "[secrets]") {
  TempDir dir;
  std::string path = dir.path + "/secrets.yaml";
  const std::string value = "SECRET-0123456789abcdef";
  struct Case {
    std::vector<Secret> keys;
    std::string why;
  };
  std::vector<Case> cases{
      {{}, "the keyring is empty"},
      {{secret("k1", "SECRET-short")}, "shorter than 16 bytes"},
      {{secret("k1", value), secret("k1", value + "x")}, "duplicate secret id 'k1'"},
      {{secret("", value)}, "secret id must not be empty"},
      {{secret("k 1", value)}, "may only contain"},
      {{secret("k1", value), secret("k2", value)}, "same secret value"},
  };
  for (const Case& c : cases) {
    auto w = writeSecretsFile(path, c.keys);
    INFO(c.why);
    REQUIRE_FALSE(w.ok());
    CHECK(w.error().find(c.why) != std::string::npos);
    CHECK(w.error().find("SECRET") == std::string::npos);
    CHECK_FALSE(std::filesystem::exists(path));
    CHECK(dir.entries() == 0);
  }
}
