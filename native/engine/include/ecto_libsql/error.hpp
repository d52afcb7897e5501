// Errors raised by the engine. Every failure carries a SQLite (extended) result code and a
// message; remote failures also carry the server's error code (e.g. "SQLITE_CONSTRAINT").
#pragma once

#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "ecto_libsql/constraint.hpp"

namespace ecto_libsql {

// SQLite's primary result codes, by name, for errors the engine raises itself (remote and
// replica failures, bad arguments): they are SQLite's own numbers, so that every mode reports
// the same codes; the engine defines no codes of its own. (Code that includes sqlite3.h may use
// SQLite's SQLITE_* macros; these serve the code that does not.)
inline constexpr int kCodeMisuse = 21;      // SQLITE_MISUSE: bad handle, wrong owner, bad argument
inline constexpr int kCodeError = 1;        // SQLITE_ERROR
inline constexpr int kCodeRange = 25;       // SQLITE_RANGE
inline constexpr int kCodeInterrupt = 9;    // SQLITE_INTERRUPT
inline constexpr int kCodeIoErr = 10;       // SQLITE_IOERR
inline constexpr int kCodeBusy = 5;         // SQLITE_BUSY
inline constexpr int kCodeCantOpen = 14;    // SQLITE_CANTOPEN
inline constexpr int kCodeNotADb = 26;      // SQLITE_NOTADB
inline constexpr int kCodeConstraint = 19;  // SQLITE_CONSTRAINT
inline constexpr int kCodeTooBig = 18;      // SQLITE_TOOBIG: a reply over max_response_size
inline constexpr int kCodeReadOnly = 8;     // SQLITE_READONLY
inline constexpr int kCodeNoMem = 7;        // SQLITE_NOMEM
inline constexpr int kCodeProtocol = 15;    // SQLITE_PROTOCOL: a server's reply we cannot read
inline constexpr int kCodeAuth = 23;        // SQLITE_AUTH: the server refused the credentials
// SQLite's extended codes of a constraint violation (SQLITE_CONSTRAINT_*).
inline constexpr int kCodeConstraintCheck = 275;
inline constexpr int kCodeConstraintForeignKey = 787;
inline constexpr int kCodeConstraintNotNull = 1299;
inline constexpr int kCodeConstraintPrimaryKey = 1555;
inline constexpr int kCodeConstraintUnique = 2067;

class Error : public std::exception {
 public:
  Error(int code, std::string message, std::string remote_code = {},
        std::optional<Constraint> constraint = std::nullopt)
      : code_(code),
        message_(std::move(message)),
        remote_code_(std::move(remote_code)),
        constraint_(std::move(constraint)) {}

  // SQLite extended result code (the primary code is code() & 0xff).
  [[nodiscard]] int code() const noexcept { return code_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  // The server's error code for remote errors, empty otherwise.
  [[nodiscard]] const std::string& remote_code() const noexcept { return remote_code_; }
  // The constraint a constraint violation broke (kind and name), when it is known.
  [[nodiscard]] const std::optional<Constraint>& constraint() const noexcept { return constraint_; }
  [[nodiscard]] const char* what() const noexcept override { return message_.c_str(); }

 private:
  int code_;
  std::string message_;
  std::string remote_code_;
  std::optional<Constraint> constraint_;
};

// A handle that was closed, or used with a connection that does not own it.
[[noreturn]] inline void throw_misuse(std::string message) {
  throw Error(kCodeMisuse, std::move(message));
}

// Names of SQLite result codes: "constraint" for 19, "constraint_unique" for 2067.
std::string_view primary_code_name(int code) noexcept;
std::string_view extended_code_name(int code) noexcept;

}  // namespace ecto_libsql
