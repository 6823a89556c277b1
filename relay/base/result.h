#pragma once
// Result<T, E>: the return type of everything that can fail on untrusted
// input. C++20 has no std::expected and the data path must not throw, so
// failures are values.
#include <type_traits>
#include <utility>
#include <variant>

namespace tw {

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
/// error (checked with assertions in debug builds), never an exception.
template <class T, class E>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  template <class E2>
  Result(Err<E2> e) : v_(std::in_place_index<1>, E(std::move(e.error))) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return *std::get_if<0>(&v_); }
  const T& value() const& { return *std::get_if<0>(&v_); }
  T&& value() && { return std::move(*std::get_if<0>(&v_)); }
  T* operator->() { return std::get_if<0>(&v_); }
  const T* operator->() const { return std::get_if<0>(&v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const E& error() const { return *std::get_if<1>(&v_); }
  E& error() { return *std::get_if<1>(&v_); }

 private:
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
  const E& error() const { return *std::get_if<1>(&e_); }

 private:
  std::variant<std::monostate, E> e_;
};

template <class E>
using Status = Result<void, E>;

}  // namespace tw
