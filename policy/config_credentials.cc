#include "policy/config_credentials.h"

#include <algorithm>
#include <filesystem>

#include "policy/config_observability.h"
#include "policy/config_quotas.h"
#include "policy/config_realms.h"
#include "relay/base/files.h"
#include "relay/base/pem.h"

namespace tw::policy::config_detail {

namespace {

constexpr size_t kMaxClaimText = 1024;

/// iss and aud values: compared byte for byte with the token's claims.
std::optional<std::string> claimText(Reader& r, const Item& item) {
  auto s = r.text(item);
  if (!s) return std::nullopt;
  if (s->empty() || s->size() > kMaxClaimText) {
    r.error(item, "must be 1-1024 characters");
    return std::nullopt;
  }
  return s;
}

void readAudience(Reader& r, const Item& item, CredentialsConfig& c) {
  if (item.node.IsScalar()) {
    if (auto a = claimText(r, item)) c.audiences = {*a};
    return;
  }
  r.forEach(item, [&](const Item& i) {
    if (auto a = claimText(r, i)) c.audiences.push_back(*a);
  });
  if (c.audiences.empty() && item.node.IsSequence()) r.error(item, "at least one audience is required");
}

void readOrigins(Reader& r, const Item& item, CredentialsConfig& c) {
  r.forEach(item, [&](const Item& i) {
    auto s = r.text(i);
    if (!s) return;
    if (*s == "*") return r.error(i, "\"*\" is not allowed: list the exact origins of your application");
    if (!isOrigin(*s))
      return r.error(
          i,
          "expected an origin such as https://app.example.org (no path, no trailing '/'), got " + shown(*s));
    c.allowedOrigins.push_back(*s);
  });
}

void readPem(Reader& r, const Item& item, std::string& out) {
  auto p = r.path(item);
  if (!p) return;
  std::error_code ec;
  if (r.checkFiles() && !std::filesystem::is_regular_file(*p, ec))
    return r.error(item, "file " + shown(*p) + " does not exist or is not a regular file");
  out = *p;
}

constexpr std::array<Field<CredentialsConfig>, 13> kCredentialsFields{{
    {"listen",
     [](Reader& r, const Item& i, CredentialsConfig& c) {
       SocketAddress at{};
       const size_t errors = r.errorCount();
       readListen(r, i, at);
       if (r.errorCount() == errors) c.listen = at;
     },
     true},
    {"jwks_file",
     [](Reader& r, const Item& i, CredentialsConfig& c) {
       if (auto p = r.path(i)) c.jwksFile = *p;
     },
     true},
    {"issuer",
     [](Reader& r, const Item& i, CredentialsConfig& c) {
       if (auto s = claimText(r, i)) c.issuer = *s;
     },
     true},
    {"audience", readAudience, true},
    {"typ",
     [](Reader& r, const Item& i, CredentialsConfig& c) {
       if (auto s = claimText(r, i)) c.typ = *s;
     }},
    {"ttl",
     [](Reader& r, const Item& i, CredentialsConfig& c) {
       if (auto s = r.seconds(i, 1)) c.ttlSeconds = *s;
     }},
    {"allowed_origins", readOrigins},
    {"cert", [](Reader& r, const Item& i, CredentialsConfig& c) { readPem(r, i, c.cert); }},
    {"key", [](Reader& r, const Item& i, CredentialsConfig& c) { readPem(r, i, c.key); }},
    {"insecure_http",
     [](Reader& r, const Item& i, CredentialsConfig& c) {
       if (auto b = r.boolean(i)) c.insecureHttp = *b;
     }},
    {"requests_per_ip", [](Reader& r, const Item& i, CredentialsConfig& c) { readBucket(r, i, c.perIp); }},
    {"requests_per_user",
     [](Reader& r, const Item& i, CredentialsConfig& c) { readBucket(r, i, c.perUser); }},
    {"realm",
     [](Reader& r, const Item& i, CredentialsConfig& c) {
       if (auto s = realmText(r, i)) c.realm = *s;
     }},
}};

bool isLoopback(const IpAddress& ip) {
  if (ip.isV4()) return ip.bytes()[0] == 127;
  return ip.v6Value() == 1;
}

bool hasKey(const Item& map, std::string_view key) { return fieldItem(map, key).path != map.path; }

/// Plain HTTP carries the bearer token in clear: loopback only (behind a
/// TLS-terminating proxy) unless the operator says otherwise in so many words.
void checkTransport(Reader& r, const Item& item, const CredentialsConfig& c) {
  if (c.cert.empty() != c.key.empty())
    return r.error(fieldItem(item, c.cert.empty() ? "key" : "cert"), "cert: and key: go together (HTTPS)");
  const bool https = !c.cert.empty();
  if (https && c.insecureHttp)
    r.error(fieldItem(item, "insecure_http"), "insecure_http only applies without cert/key");
  if (!https && !c.insecureHttp && c.listen && !isLoopback(c.listen->ip))
    r.error(fieldItem(item, "listen"),
            "plain HTTP on a non-loopback address would expose bearer tokens: set cert: and key: "
            "(HTTPS), listen on loopback behind a TLS proxy, or set insecure_http: true");
}

/// With checkFiles (check-config, start-up, reload): the cert and key must
/// parse and belong together, so a 0-byte or half-renewed certificate is a
/// config error and never a listener that serves without it.
void checkPemFiles(Reader& r, const Item& item, const CredentialsConfig& c) {
  if (!r.checkFiles() || c.cert.empty() || c.key.empty()) return;
  auto cert = readRegularFile(c.cert, /*privateOnly=*/false);
  if (!cert) return r.error(fieldItem(item, "cert"), "cannot read " + shown(c.cert) + ": " + cert.error());
  auto key = readRegularFile(c.key, /*privateOnly=*/false);
  if (!key) return r.error(fieldItem(item, "key"), "cannot read " + shown(c.key) + ": " + key.error());
  auto problem = pemPairProblem(*cert, *key);
  if (!problem) return;
  const bool atCert = problem->at == PemProblemAt::Cert;
  r.error(fieldItem(item, atCert ? "cert" : "key"), "file " + shown(atCert ? c.cert : c.key) + " " +
                                                        problem->message +
                                                        " (HTTPS needs both to parse and match)");
}

/// "L:C" of byte `offset` in `text` (1-based), for a JSON syntax error.
std::string lineColumn(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  const auto before = text.substr(0, offset > 0 ? offset - 1 : 0);
  const size_t line = size_t(std::count(before.begin(), before.end(), '\n')) + 1;
  const size_t lastNl = before.rfind('\n');
  const size_t column = before.size() - (lastNl == std::string_view::npos ? 0 : lastNl + 1) + 1;
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

/// Reads and parses the JWKS file (loadConfig only). A file that cannot be
/// read, is not JSON or holds no usable key is blamed on jwks_file here; a
/// bad key inside it is reported as "JWKS_FILE: keys[N]: why".
void loadJwks(Reader& r, const Item& at, CredentialsConfig& c) {
  if (!r.checkFiles() || c.jwksFile.empty()) return;
  auto text = readRegularFile(c.jwksFile, /*privateOnly=*/false);
  if (!text) return r.error(at, "cannot read the JWKS file " + shown(c.jwksFile) + ": " + text.error());
  if (text->size() > (1u << 20))
    return r.error(at, "the JWKS file " + shown(c.jwksFile) + " is larger than 1 MiB");
  auto set = Jwks::parse(*text);
  if (set) return void(c.jwks = std::make_shared<const Jwks>(std::move(set.value())));
  const JwksError& e = set.error();
  if (e.syntax)
    return r.error(
        at, "the JWKS file " + shown(c.jwksFile) + " is not valid JSON (" + lineColumn(*text, e.byte) + ")");
  if (e.message.rfind("keys[", 0) == 0) return r.append({ConfigError{c.jwksFile, 0, 0, e.message}});
  r.error(at, "the JWKS file " + shown(c.jwksFile) + ": " + e.message);
}

}  // namespace

bool isOrigin(std::string_view text) {
  std::string_view rest;
  if (text.rfind("https://", 0) == 0)
    rest = text.substr(8);
  else if (text.rfind("http://", 0) == 0)
    rest = text.substr(7);
  else
    return false;
  auto ok = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' ||
           c == ']';
  };
  return !rest.empty() && rest.size() <= 253 && rest.front() != ':' &&
         std::all_of(rest.begin(), rest.end(), ok);
}

void readCredentials(Reader& r, const Item& item, Config& cfg) {
  CredentialsConfig& c = cfg.credentials;
  const size_t before = r.errorCount();
  readFields(r, item, kCredentialsFields, c);
  if (!item.node.IsMap()) return;
  checkTransport(r, item, c);
  if (r.errorCount() == before) checkPemFiles(r, item, c);
  if (r.errorCount() == before && hasKey(item, "jwks_file")) loadJwks(r, fieldItem(item, "jwks_file"), c);
}

}  // namespace tw::policy::config_detail
