#pragma once
// Internal to the config layer (config.cc, secrets_file.cc): a small schema
// reader over yaml-cpp nodes. Each YAML map is described by a table of
// {key, reader} fields; the reader collects every error with its position
// instead of stopping at the first, and never throws.
//
// Not a public header: it exposes yaml-cpp types.
#include <yaml-cpp/yaml.h>

#include <array>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/config.h"

namespace tw::policy::config_detail {

/// A node, the position to blame for it and its dotted key path
/// ("listeners[0].port"). The position is the value's, or the key's when the
/// value is empty (yaml-cpp marks an empty value at the next token).
struct Item {
  YAML::Node node;
  YAML::Mark mark;
  std::string path;
};

/// Untrusted text made log-safe and short, in quotes, for error messages.
/// Never used on secret values or keys.
std::string shown(std::string_view text);

/// The document root of `text`; the mark is 1:1 even for an empty document.
Item rootItem(const YAML::Node& root);

/// Collects errors for one file and converts scalars with range checks. Every
/// failed conversion reports an error and returns nullopt, so callers simply
/// skip the assignment.
class Reader {
 public:
  /// `file` names the file in errors; relative paths resolve against `baseDir`.
  /// With `checkFiles`, readers may also look at the file system (loadConfig).
  Reader(std::string file, std::string baseDir, bool checkFiles = false);

  void error(const Item& at, std::string_view message);
  void errorAt(const YAML::Mark& mark, std::string_view message);
  bool failed() const { return !errors_.empty(); }
  size_t errorCount() const { return errors_.size(); }
  /// The errors, in file order (this file's by position, then appended ones).
  std::vector<ConfigError> takeErrors();
  const std::string& file() const { return file_; }
  bool checkFiles() const { return checkFiles_; }
  /// Adds errors found in another file (the secrets file of a config).
  void append(std::vector<ConfigError> more);

  /// Parses YAML text (a single document); a syntax error is reported with
  /// the parser's position and yields nullopt.
  std::optional<YAML::Node> load(std::string_view text);

  bool expectMap(const Item& item);
  bool expectSequence(const Item& item);
  /// Calls `fn` for every element of a sequence (null counts as empty).
  void forEach(const Item& seq, const std::function<void(const Item&)>& fn);

  /// Any scalar, never echoed in errors (secrets go through here).
  std::optional<std::string> text(const Item& item);
  std::optional<bool> boolean(const Item& item);
  std::optional<int64_t> integer(const Item& item, int64_t min, int64_t max);
  std::optional<uint16_t> port(const Item& item);
  /// "LOW-HIGH" or a single port "P", both ends within 1-65535, LOW <= HIGH.
  std::optional<std::pair<uint16_t, uint16_t>> portRange(const Item& item);
  std::optional<tw::Duration> duration(const Item& item, tw::Duration min);
  /// A duration that must be whole seconds (REST TTLs are in seconds).
  std::optional<int64_t> seconds(const Item& item, int64_t min);
  std::optional<IpAddress> address(const Item& item);
  /// A file path, made absolute against the config file's directory.
  std::optional<std::string> path(const Item& item);

 private:
  std::optional<std::string> scalar(const Item& item, std::string_view expected);

  std::string file_;
  std::string baseDir_;
  bool checkFiles_;
  std::vector<ConfigError> errors_;
};

/// One key of a YAML map and how to read its value into T.
template <class T>
struct Field {
  std::string_view key;
  void (*read)(Reader&, const Item&, T&);
  bool required = false;
};

/// Iterates a map, reporting non-string, duplicate and unknown keys (with a
/// "did you mean" when one of `keys` is close) and missing required keys;
/// calls `fn(index into keys, value item)` for each known key.
void visitMap(Reader& r, const Item& map, std::span<const std::string_view> keys,
              std::span<const bool> required, const std::function<void(size_t, const Item&)>& fn);

/// Reads a map described by a field table into `out`.
template <class T, size_t N>
void readFields(Reader& r, const Item& map, const std::array<Field<T>, N>& fields, T& out) {
  std::array<std::string_view, N> keys;
  std::array<bool, N> required;
  for (size_t i = 0; i < N; ++i) {
    keys[i] = fields[i].key;
    required[i] = fields[i].required;
  }
  visitMap(r, map, keys, required, [&](size_t i, const Item& value) { fields[i].read(r, value, out); });
}

/// The closest of `known` to `key`, if it is close enough to be a typo.
std::optional<std::string_view> suggestKey(std::string_view key, std::span<const std::string_view> known);

/// Where to blame a problem with `key` of `map`: the key's value if present,
/// otherwise the map itself.
Item fieldItem(const Item& map, std::string_view key);

/// Reads a REST keyring list ({id, value, not_after}); shared by auth.secrets
/// and the secrets file. Checks ids (non-empty, unique, [A-Za-z0-9._-]),
/// values (>= kMinSecretBytes, not repeated) without ever echoing a value.
std::vector<Secret> readSecretList(Reader& r, const Item& seq);

/// Minimum secret length: 16 bytes, i.e. 128 bits if the secret is random.
inline constexpr size_t kMinSecretBytes = 16;

/// Why `id` is not a valid secret id, or nullopt.
std::optional<std::string> checkSecretId(std::string_view id);

}  // namespace tw::policy::config_detail
