// Error values: every public function that can fail returns Expected<T>; no exception crosses a module.
#pragma once

#include <fmt/format.h>

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace mirtune {

/// What kind of failure an Error is; the CLI maps these to exit codes (Usage → 2, everything else → 1).
enum class ErrorCode {
  kUsage,         ///< bad command line
  kNotFound,      ///< a named file, table or record does not exist
  kInvalidInput,  ///< the input exists but cannot be used (empty, binary, wrong extension, bad IR)
  kCompileError,  ///< the compiler rejected the source
  kIo,            ///< reading or writing failed
  kDatabase,      ///< SQLite reported an error
  kTimeout,       ///< an operation ran past its limit
  kVersion,       ///< a model/schema/data version does not match
  kInternal,      ///< a bug in mirtune
};

/// Short stable name of an ErrorCode ("usage", "not_found", ...), used in JSON output.
std::string_view errorCodeName(ErrorCode code);

/// A failure: a code and a message that a user can act on (it names the file and line where there is one).
class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  /// The same error with "context: " put before its message.
  Error withContext(std::string_view context) const {
    return Error(code_, fmt::format("{}: {}", context, message_));
  }

 private:
  ErrorCode code_;
  std::string message_;
};

template <typename... Args>
Error makeError(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return Error(code, fmt::format(format, std::forward<Args>(args)...));
}

/// A value of type T or an Error.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : state_(std::move(value)) {}       // NOLINT(google-explicit-constructor)
  Expected(Error error) : state_(std::move(error)) {}   // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

/// Success or an Error, for operations with no result value.
template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(!ok());
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

using Status = Expected<void>;

inline Status success() { return Status(); }

}  // namespace mirtune
