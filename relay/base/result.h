#pragma once
// Result<T, E>: the return type of everything that can fail on untrusted
// input. C++20 has no std::expected and the data path must not throw, so
// failures are values.
#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

namespace tw {

namespace result_detail {
/// Reading the side a Result does not hold is a programming error. It must
/// never turn into a null dereference (undefined behaviour that an attacker
/// may steer), so every build stops here with a message instead. Kept out of
/// line of the callers' fast path by [[gnu::cold]].
[[noreturn, gnu::cold, gnu::noinline]] inline void resultMisuse(const char* what) {
  std::fprintf(stderr, "turnwarden: fatal: %s\n", what);
  std::abort();
}
}  // namespace result_detail

/// Wraps an error value so that Result's constructor can tell it from T.
template <class E>
struct Err {
  E error;
};

template <class E>
Err<std::decay_t<E>> err(E&& e) {
  return Err<std::decay_t<E>>{std::forward<E>(e)};
}

/// Either a value or an error. Accessing the wrong side is a programming
/// error: it aborts with a message (result_detail::resultMisuse), never throws and
/// never dereferences null.
template <class T, class E>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  template <class E2>
  Result(Err<E2> e) : v_(std::in_place_index<1>, E(std::move(e.error))) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return *valuePtr(); }
  const T& value() const& { return *valuePtr(); }
  T&& value() && { return std::move(*valuePtr()); }
  T* operator->() { return valuePtr(); }
  const T* operator->() const { return valuePtr(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const E& error() const { return *errorPtr(); }
  E& error() { return *errorPtr(); }

 private:
  T* valuePtr() { return const_cast<T*>(std::as_const(*this).valuePtr()); }
  const T* valuePtr() const {
    const T* p = std::get_if<0>(&v_);
    if (!p) [[unlikely]]
      result_detail::resultMisuse("Result::value() called on a Result holding an error");
    return p;
  }
  E* errorPtr() { return const_cast<E*>(std::as_const(*this).errorPtr()); }
  const E* errorPtr() const {
    const E* p = std::get_if<1>(&v_);
    if (!p) [[unlikely]]
      result_detail::resultMisuse("Result::error() called on a Result holding a value");
    return p;
  }

  std::variant<T, E> v_;
};

/// Success-or-error with no value.
template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  template <class E2>
  Result(Err<E2> e) : e_(std::in_place_index<1>, E(std::move(e.error))) {}

  bool ok() const { return e_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const E& error() const {
    const E* p = std::get_if<1>(&e_);
    if (!p) [[unlikely]]
      result_detail::resultMisuse("Status::error() called on a success");
    return *p;
  }

 private:
  std::variant<std::monostate, E> e_;
};

template <class E>
using Status = Result<void, E>;

}  // namespace tw
