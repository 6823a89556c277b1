// The credentials: section (JWT -> TURN credentials endpoint) and the JWKS
// file it names, as check-config, start-up and every reload read them.
#include "policy/config_credentials.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "policy/config.h"
#include "tests/support/jwt_signer.h"

namespace tw::policy {
namespace {

constexpr const char* kFile = "/etc/tw/turnwarden.yaml";

std::string withSecret(const std::string& extra) {
  return "realm: example.org\nauth:\n  secrets:\n    - {id: k1, value: "
         "\"0123456789abcdef0123456789abcdef\"}\n" +
         extra;
}

const std::string kBlock =
    "credentials:\n"
    "  listen: 127.0.0.1:8443\n"
    "  jwks_file: app-jwks.json\n"
    "  issuer: https://app.example.org\n"
    "  audience: turn\n";

/// A temp dir holding turnwarden.yaml and app-jwks.json; removed at the end.
struct Dir {
  Dir() {
    char tmpl[] = "/tmp/tw-credcfg.XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~Dir() { std::filesystem::remove_all(path); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path + "/" + name) << text;
  }
  Result<Config, std::vector<ConfigError>> load(const std::string& yaml) const {
    write("turnwarden.yaml", yaml);
    return loadConfig(path + "/turnwarden.yaml");
  }
  std::string path;
};

std::string errorsOf(const Result<Config, std::vector<ConfigError>>& r) {
  REQUIRE_FALSE(r.ok());
  return formatErrors(r.error());
}

}  // namespace

TEST_CASE("credentials config: off by default, every key read", "[config]") {
  auto off = parseConfig(withSecret(""), kFile);
  REQUIRE(off.ok());
  CHECK_FALSE(off->credentials.listen);
  auto r = parseConfig(
      withSecret(kBlock + "  ttl: 5m\n  allowed_origins: [https://app.example.org, http://localhost:3000]\n"
                          "  requests_per_ip: {rate: 50, burst: 500}\n  requests_per_user: {rate: 2}\n"),
      kFile);
  REQUIRE(r.ok());
  const CredentialsConfig& c = r->credentials;
  REQUIRE(c.listen);
  CHECK(c.listen->toString() == "127.0.0.1:8443");
  CHECK(c.jwksFile == "/etc/tw/app-jwks.json");
  CHECK(c.issuer == "https://app.example.org");
  CHECK(c.audiences == std::vector<std::string>{"turn"});
  CHECK(c.ttlSeconds == 300);
  CHECK(c.allowedOrigins == std::vector<std::string>{"https://app.example.org", "http://localhost:3000"});
  CHECK(c.perIp.rate == 50);
  CHECK(c.perIp.burst == 500);
  CHECK(c.perUser.rate == 2);
  CHECK(c.perUser.burst == 2);
  CHECK_FALSE(c.jwks);  // parseConfig reads no file
  auto list = parseConfig(withSecret(kBlock + "  audience: [a, b]\n"), kFile);
  REQUIRE_FALSE(list.ok());  // duplicate key
  auto two = parseConfig(
      withSecret(std::string(kBlock).replace(kBlock.find("audience: turn"), 14, "audience: [a, b]")), kFile);
  REQUIRE(two.ok());
  CHECK(two->credentials.audiences == std::vector<std::string>{"a", "b"});
}

TEST_CASE("credentials config: strict validation with FILE:LINE:COL", "[config]") {
  auto missing = parseConfig(withSecret("credentials:\n  listen: 127.0.0.1:8443\n"), kFile);
  const std::string m = errorsOf(missing);
  CHECK(m.find("missing required key 'jwks_file'") != std::string::npos);
  CHECK(m.find("'issuer'") != std::string::npos);
  CHECK(m.find("'audience'") != std::string::npos);

  auto bad = parseConfig(withSecret(kBlock + "  allowed_origins: [\"*\", https://a.example/, app.example]\n"
                                             "  ttl: 0s\n  cert: c.pem\n"),
                         kFile);
  const std::string b = errorsOf(bad);
  INFO(b);
  CHECK(b.find("/etc/tw/turnwarden.yaml:10:21: credentials.allowed_origins[0]: \"*\" is not allowed") !=
        std::string::npos);
  CHECK(b.find("credentials.allowed_origins[1]: expected an origin") != std::string::npos);
  CHECK(b.find("credentials.allowed_origins[2]: expected an origin") != std::string::npos);
  CHECK(b.find("credentials.ttl") != std::string::npos);
  CHECK(b.find("cert: and key: go together") != std::string::npos);

  // Plain HTTP off loopback needs insecure_http: true (or cert/key).
  const std::string pub = std::string(kBlock).replace(kBlock.find("127.0.0.1"), 9, "0.0.0.0");
  CHECK(errorsOf(parseConfig(withSecret(pub), kFile))
            .find("turnwarden.yaml:6:11: credentials.listen: plain HTTP") != std::string::npos);
  CHECK(parseConfig(withSecret(pub + "  insecure_http: true\n"), kFile).ok());
  CHECK(
      parseConfig(
          withSecret(std::string(kBlock).replace(kBlock.find("127.0.0.1:8443"), 14, "\"[::1]:8443\"")), kFile)
          .ok());
}

TEST_CASE("credentials config: origins", "[config]") {
  using config_detail::isOrigin;
  CHECK(isOrigin("https://app.example.org"));
  CHECK(isOrigin("http://localhost:3000"));
  CHECK(isOrigin("http://[::1]:8080"));
  CHECK_FALSE(isOrigin("https://app.example.org/"));
  CHECK_FALSE(isOrigin("https://app.example.org/path"));
  CHECK_FALSE(isOrigin("ftp://x"));
  CHECK_FALSE(isOrigin("https://"));
  CHECK_FALSE(isOrigin("null"));
}

TEST_CASE("credentials config: loadConfig reads the JWKS file, problems point at jwks_file or into it",
          "[config]") {
  Dir d;
  const auto key = testing::TestKey::generate(JwtAlg::EdDSA);
  d.write("app-jwks.json", testing::jwksOf({key.jwk("k1")}));
  auto ok = d.load(withSecret(kBlock));
  REQUIRE(ok.ok());
  REQUIRE(ok->credentials.jwks);
  CHECK(ok->credentials.jwks->size() == 1);

  const std::string yaml = d.path + "/turnwarden.yaml";
  d.write("app-jwks.json", "{\"keys\": [\n  {\"kty\": \"OKP\",}\n]}");
  CHECK(errorsOf(d.load(withSecret(kBlock))) ==
        yaml + ":7:14: credentials.jwks_file: the JWKS file '" + d.path +
            "/app-jwks.json' is not valid JSON (line 2, column 17)\n");
  d.write("app-jwks.json", R"({"keys": [{"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"}]})");
  CHECK(errorsOf(d.load(withSecret(kBlock))).find(yaml + ":7:14: credentials.jwks_file: the JWKS file") == 0);
  CHECK(errorsOf(d.load(withSecret(kBlock))).find("no usable key") != std::string::npos);
  d.write("app-jwks.json", testing::jwksOf({key.jwk("k1"), R"({"kty":"OKP","crv":"Ed25519","x":"AAAA"})"}));
  CHECK(errorsOf(d.load(withSecret(kBlock))) == d.path + "/app-jwks.json: keys[1]: x must be 32 bytes\n");
  std::filesystem::remove(d.path + "/app-jwks.json");
  CHECK(errorsOf(d.load(withSecret(kBlock)))
            .find(yaml + ":7:14: credentials.jwks_file: cannot read the JWKS file") == 0);
}

TEST_CASE("credentials config: typ is read, and cert and key must parse and match when files are checked",
          "[config]") {
  Dir d;
  const auto key = testing::TestKey::generate(JwtAlg::EdDSA);
  d.write("app-jwks.json", testing::jwksOf({key.jwk("k1")}));
  auto typed = d.load(withSecret(kBlock + "  typ: at+jwt\n"));
  REQUIRE(typed.ok());
  CHECK(typed->credentials.typ == "at+jwt");

  const std::string cmd =
      "cd " + d.path +
      " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
      " -subj /CN=localhost -keyout key.pem -out cert.pem >/dev/null 2>&1"
      " && openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out other.pem"
      " >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  d.write("empty.pem", "");
  auto https = [&](const std::string& cert, const std::string& keyFile) {
    return d.load(
        withSecret(kBlock + "  cert: " + d.path + "/" + cert + "\n  key: " + d.path + "/" + keyFile + "\n"));
  };
  CHECK(https("cert.pem", "key.pem").ok());
  const std::string yaml = d.path + "/turnwarden.yaml";
  CHECK(errorsOf(https("empty.pem", "key.pem")) ==
        yaml + ":10:9: credentials.cert: file '" + d.path +
            "/empty.pem' is empty (HTTPS needs both to parse and match)\n");
  CHECK(errorsOf(https("cert.pem", "empty.pem"))
            .find("credentials.key: file '" + d.path + "/empty.pem' is empty") != std::string::npos);
  CHECK(errorsOf(https("cert.pem", "other.pem"))
            .find("credentials.key: file '" + d.path + "/other.pem' does not match the certificate") !=
        std::string::npos);
  CHECK(errorsOf(https("key.pem", "key.pem"))
            .find("credentials.cert: file '" + d.path + "/key.pem' holds no PEM certificate") !=
        std::string::npos);
  // parseConfig (no file access) leaves the files to loadConfig.
  CHECK(parseConfig(withSecret(kBlock + "  cert: /nonexistent/c.pem\n  key: /nonexistent/k.pem\n"), kFile)
            .ok());
}

}  // namespace tw::policy
