#include "policy/config_io.h"

#include <array>

namespace tw::policy::config_detail {
namespace {

/// One allowed word of an enumerated key and the value it stands for.
template <class E>
struct Choice {
  std::string_view word;
  E value;
};

template <class E, size_t N>
void readChoice(Reader& r, const Item& item, const std::array<Choice<E>, N>& choices, E& out) {
  const auto word = r.text(item);
  if (!word) return;
  std::string expected;
  for (const auto& c : choices) {
    if (c.word == *word) {
      out = c.value;
      return;
    }
    expected += (expected.empty() ? "" : ", ") + std::string(c.word);
  }
  r.error(item, "unknown value " + shown(*word) + " (expected " + expected + ")");
}

constexpr std::array<Choice<UringUse>, 3> kUring{{
    {"auto", UringUse::Auto},
    {"send", UringUse::Send},
    {"off", UringUse::Off},
}};

constexpr std::array<Choice<SendBatching>, 3> kSendBatch{{
    {"gso", SendBatching::Gso},
    {"mmsg", SendBatching::Mmsg},
    {"off", SendBatching::Off},
}};

constexpr std::array<Field<IoConfig>, 2> kIoFields{{
    {"uring", [](Reader& r, const Item& i, IoConfig& io) { readChoice(r, i, kUring, io.uring); }},
    {"send_batch", [](Reader& r, const Item& i, IoConfig& io) { readChoice(r, i, kSendBatch, io.sendBatch); }},
}};

}  // namespace

void readIoSection(Reader& r, const Item& item, Config& cfg) {
  readFields(r, item, kIoFields, cfg.io);
}

}  // namespace tw::policy::config_detail
