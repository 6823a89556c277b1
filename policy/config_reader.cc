#include "policy/config_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <tuple>

#include "policy/duration.h"

namespace tw::policy::config_detail {
namespace {

/// How a node looks, for "expected X, got Y". Scalars are echoed (sanitized,
/// short) only by the typed readers, never by text(), so secrets stay out.
std::string kindOf(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "nothing (null)";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "a scalar";
  }
}

std::optional<int64_t> parseInt(std::string_view s) {
  int64_t v = 0;
  if (s.empty() || s.front() == '+') return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<uint16_t> parsePortText(std::string_view s) {
  auto v = parseInt(s);
  if (!v || *v < 1 || *v > 65535) return std::nullopt;
  return static_cast<uint16_t>(*v);
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions
/// and adjacent transpositions ("valeu" -> "value") each cost 1.
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

Item childItem(const Item& parent, const YAML::Node& key, const YAML::Node& value,
               const std::string& keyText) {
  YAML::Mark mark = value.IsNull() || value.Mark().is_null() ? key.Mark() : value.Mark();
  std::string path = parent.path.empty() ? keyText : parent.path + "." + keyText;
  return Item{value, mark, std::move(path)};
}

}  // namespace

std::string shown(std::string_view text) { return "'" + tw::sanitize(text, 64) + "'"; }

Item rootItem(const YAML::Node& root) {
  YAML::Mark mark = root.Mark();
  if (mark.is_null()) mark = YAML::Mark{};  // line 0, column 0 -> printed 1:1
  return Item{root, mark, ""};
}

Reader::Reader(std::string file, std::string baseDir, bool checkFiles)
    : file_(std::move(file)), baseDir_(std::move(baseDir)), checkFiles_(checkFiles) {}

std::vector<ConfigError> Reader::takeErrors() {
  auto rank = [this](const ConfigError& e) { return std::tuple(e.file != file_, e.file, e.line, e.column); };
  std::stable_sort(errors_.begin(), errors_.end(),
                   [&](const ConfigError& a, const ConfigError& b) { return rank(a) < rank(b); });
  return std::move(errors_);
}

void Reader::append(std::vector<ConfigError> more) {
  for (ConfigError& e : more) errors_.push_back(std::move(e));
}

namespace {

/// Builds nothing: it only notes where a document starts. Used to look for a
/// second document without YAML::LoadAll, which loops without end (and
/// without bound on memory) on some malformed input, e.g. ",.00 porp: 534"
/// (found by the config_yaml fuzz target; yaml-cpp 0.7's parser can report
/// a document without consuming input, and LoadAll asks again forever).
class DocumentStarts : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> start;
  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
  }
  void OnMapEnd() override {}
};

/// Where a second document starts, if the text has one (two parser calls at most).
std::optional<YAML::Mark> secondDocument(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts first, second;
  if (!parser.HandleNextDocument(first)) return std::nullopt;
  if (!parser.HandleNextDocument(second)) return std::nullopt;
  return second.start.value_or(YAML::Mark::null_mark());
}

}  // namespace

std::optional<YAML::Node> Reader::load(std::string_view text) {
  try {
    const std::string copy(text);
    if (auto second = secondDocument(copy)) {
      errorAt(*second, "only one YAML document is allowed (found a second '---')");
      return std::nullopt;
    }
    return YAML::Load(copy);  // the first (and only) document; null when empty
  } catch (const YAML::Exception& e) {
    // yaml-cpp appends the offending text to some messages ("unknown escape
    // character: q"); that text may be part of a secret, so keep only the
    // fixed description before the colon.
    errorAt(e.mark, "YAML syntax error: " + e.msg.substr(0, e.msg.find(':')));
    return std::nullopt;
  }
}

void Reader::error(const Item& at, std::string_view message) {
  std::string text = at.path.empty() ? std::string(message) : at.path + ": " + std::string(message);
  errorAt(at.mark, text);
}

void Reader::errorAt(const YAML::Mark& mark, std::string_view message) {
  int line = mark.is_null() ? 0 : mark.line + 1;
  int column = mark.is_null() ? 0 : mark.column + 1;
  errors_.push_back(ConfigError{file_, line, column, std::string(message)});
}

bool Reader::expectMap(const Item& item) {
  if (item.node.IsMap()) return true;
  error(item, "expected a map of keys, got " + kindOf(item.node));
  return false;
}

bool Reader::expectSequence(const Item& item) {
  if (item.node.IsSequence() || item.node.IsNull()) return true;
  error(item, "expected a list, got " + kindOf(item.node));
  return false;
}

void Reader::forEach(const Item& seq, const std::function<void(const Item&)>& fn) {
  if (!expectSequence(seq) || seq.node.IsNull()) return;
  size_t i = 0;
  for (const YAML::Node& element : seq.node) {
    fn(Item{element, element.Mark(), seq.path + "[" + std::to_string(i++) + "]"});
  }
}

std::optional<std::string> Reader::scalar(const Item& item, std::string_view expected) {
  if (item.node.IsScalar()) return item.node.Scalar();
  error(item, "expected " + std::string(expected) + ", got " + kindOf(item.node));
  return std::nullopt;
}

std::optional<std::string> Reader::text(const Item& item) { return scalar(item, "a string"); }

std::optional<bool> Reader::boolean(const Item& item) {
  auto s = scalar(item, "true or false");
  if (!s) return std::nullopt;
  if (*s == "true") return true;
  if (*s == "false") return false;
  error(item, "expected true or false, got " + shown(*s));
  return std::nullopt;
}

std::optional<int64_t> Reader::integer(const Item& item, int64_t min, int64_t max) {
  std::string want = "an integer " + std::to_string(min) + "-" + std::to_string(max);
  auto s = scalar(item, want);
  if (!s) return std::nullopt;
  auto v = parseInt(*s);
  if (v && *v >= min && *v <= max) return v;
  error(item, "expected " + want + ", got " + shown(*s));
  return std::nullopt;
}

std::optional<uint16_t> Reader::port(const Item& item) {
  auto v = integer(item, 1, 65535);
  if (!v) return std::nullopt;
  return static_cast<uint16_t>(*v);
}

std::optional<std::pair<uint16_t, uint16_t>> Reader::portRange(const Item& item) {
  constexpr std::string_view kWant = "a port range LOW-HIGH within 1-65535";
  auto s = scalar(item, kWant);
  if (!s) return std::nullopt;
  size_t dash = s->find('-');
  std::string_view all = *s;
  auto low = parsePortText(all.substr(0, dash));
  auto high = dash == std::string::npos ? low : parsePortText(all.substr(dash + 1));
  if (!low || !high) {
    error(item, "expected " + std::string(kWant) + ", got " + shown(*s));
    return std::nullopt;
  }
  if (*low > *high) {
    error(item, "port range " + shown(*s) + " is inverted (low end above high end)");
    return std::nullopt;
  }
  return std::pair{*low, *high};
}

std::optional<tw::Duration> Reader::duration(const Item& item, tw::Duration min) {
  constexpr std::string_view kWant = "a duration such as 250ms, 30s, 5m, 1h, 7d or plain seconds";
  auto s = scalar(item, kWant);
  if (!s) return std::nullopt;
  auto d = parseDuration(*s);
  if (!d) {
    error(item, "expected " + std::string(kWant) + ", got " + shown(*s));
  } else if (*d < min) {
    error(item, "duration " + shown(*s) + " is below the minimum of " + formatDuration(min));
  } else {
    return d;
  }
  return std::nullopt;
}

std::optional<int64_t> Reader::seconds(const Item& item, int64_t min) {
  auto d = duration(item, std::chrono::seconds(min));
  if (!d) return std::nullopt;
  if (d->count() % 1000 != 0) {
    error(item, "must be whole seconds, got " + formatDuration(*d));
    return std::nullopt;
  }
  return d->count() / 1000;
}

std::optional<IpAddress> Reader::address(const Item& item) {
  auto s = scalar(item, "an IPv4 or IPv6 address");
  if (!s) return std::nullopt;
  auto a = IpAddress::parse(*s);
  if (!a) error(item, "expected an IPv4 or IPv6 address, got " + shown(*s));
  return a;
}

std::optional<std::string> Reader::path(const Item& item) {
  auto s = scalar(item, "a file path");
  if (!s) return std::nullopt;
  if (s->empty() || s->find('\0') != std::string::npos) {
    error(item, "expected a file path, got an empty string");
    return std::nullopt;
  }
  std::error_code ec;
  std::filesystem::path p = std::filesystem::path(baseDir_) / *s;
  std::filesystem::path abs = std::filesystem::absolute(p, ec);
  return (ec ? p : abs).lexically_normal().string();
}

void visitMap(Reader& r, const Item& map, std::span<const std::string_view> keys,
              std::span<const bool> required, const std::function<void(size_t, const Item&)>& fn) {
  if (!r.expectMap(map)) return;
  std::vector<bool> seen(keys.size(), false);
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    // it-> yields a temporary pair: copy the (cheap, shared) node handles.
    YAML::Node key = it->first;
    YAML::Node rawValue = it->second;
    Item keyItem{key, key.Mark(), map.path};
    if (!key.IsScalar()) {
      r.error(keyItem, "keys must be plain strings, got " + kindOf(key));
      continue;
    }
    const std::string& name = key.Scalar();
    Item value = childItem(map, key, rawValue, name);
    auto pos = std::find(keys.begin(), keys.end(), name);
    if (pos == keys.end()) {
      auto hint = suggestKey(name, keys);
      std::string msg = "unknown key " + shown(name);
      if (hint) msg += " (did you mean '" + std::string(*hint) + "'?)";
      r.errorAt(key.Mark(), (map.path.empty() ? "" : map.path + ": ") + msg);
      continue;
    }
    size_t i = static_cast<size_t>(pos - keys.begin());
    if (seen[i]) {
      r.errorAt(key.Mark(), value.path + ": duplicate key (each key may appear once)");
      continue;
    }
    seen[i] = true;
    fn(i, value);
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    if (required[i] && !seen[i]) r.error(map, "missing required key '" + std::string(keys[i]) + "'");
  }
}

std::optional<std::string_view> suggestKey(std::string_view key, std::span<const std::string_view> known) {
  std::optional<std::string_view> best;
  size_t bestDistance = std::min<size_t>(3, std::max<size_t>(1, key.size() / 3)) + 1;
  for (std::string_view candidate : known) {
    size_t d = editDistance(key, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

Item fieldItem(const Item& map, std::string_view key) {
  if (!map.node.IsMap()) return map;
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    YAML::Node k = it->first;
    YAML::Node v = it->second;
    if (k.IsScalar() && k.Scalar() == key) return childItem(map, k, v, std::string(key));
  }
  return map;
}

namespace {

void readSecretId(Reader& r, const Item& item, Secret& out) {
  auto id = r.text(item);
  if (!id) return;
  if (auto why = checkSecretId(*id)) return r.error(item, *why);
  out.id = *id;
}

void readSecretValue(Reader& r, const Item& item, Secret& out) {
  auto value = r.text(item);  // text() never echoes the scalar
  if (!value) return;
  if (value->size() < kMinSecretBytes) {
    return r.error(item, "secret value is shorter than " + std::to_string(kMinSecretBytes) +
                             " bytes; generate one with `openssl rand -hex 32`");
  }
  out.value = std::move(*value);
}

void readNotAfter(Reader& r, const Item& item, Secret& out) {
  if (item.node.IsNull()) return;
  if (auto t = r.integer(item, 0, INT64_MAX)) out.notAfter = *t;
}

constexpr std::array<Field<Secret>, 3> kSecretFields{{
    {"id", readSecretId, true},
    {"value", readSecretValue, true},
    {"not_after", readNotAfter},
}};

/// Where each id and value was first defined, to report repeats. Entries
/// with other errors still take part, so every problem shows in one pass.
struct SeenSecrets {
  std::vector<std::pair<std::string, std::string>> ids;     // id, path
  std::vector<std::pair<std::string, std::string>> values;  // value, path

  static const std::string* find(const std::vector<std::pair<std::string, std::string>>& list,
                                 const std::string& key) {
    for (const auto& [k, path] : list) {
      if (k == key) return &path;
    }
    return nullptr;
  }
};

/// Reports a repeated id or value of `s`; true if it was new on both counts.
bool checkRepeats(Reader& r, const Item& item, const Secret& s, SeenSecrets& seen) {
  bool fresh = true;
  if (const std::string* other = s.id.empty() ? nullptr : SeenSecrets::find(seen.ids, s.id)) {
    r.error(fieldItem(item, "id"), "duplicate secret id " + shown(s.id) + " (also " + *other + ")");
    fresh = false;
  } else if (!s.id.empty()) {
    seen.ids.emplace_back(s.id, item.path);
  }
  if (const std::string* other = s.value.empty() ? nullptr : SeenSecrets::find(seen.values, s.value)) {
    r.error(fieldItem(item, "value"), "same secret value as " + *other + "; a rotated key must be new");
    fresh = false;
  } else if (!s.value.empty()) {
    seen.values.emplace_back(s.value, item.path);
  }
  return fresh;
}

}  // namespace

std::optional<std::string> checkSecretId(std::string_view id) {
  if (id.empty()) return "secret id must not be empty";
  if (id.size() > 64) return "secret id is longer than 64 characters";
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  };
  if (!std::all_of(id.begin(), id.end(), allowed)) {
    return "secret id " + shown(id) + " may only contain letters, digits, '.', '_' and '-'";
  }
  return std::nullopt;
}

std::vector<Secret> readSecretList(Reader& r, const Item& seq) {
  std::vector<Secret> out;
  SeenSecrets seen;
  r.forEach(seq, [&](const Item& item) {
    Secret s;
    size_t before = r.errorCount();
    readFields(r, item, kSecretFields, s);
    bool fresh = checkRepeats(r, item, s, seen);
    if (fresh && r.errorCount() == before) out.push_back(std::move(s));
  });
  if (seq.node.IsNull() || (seq.node.IsSequence() && seq.node.size() == 0)) {
    r.error(seq, "the keyring is empty: at least one secret is required");
  }
  return out;
}

}  // namespace tw::policy::config_detail
