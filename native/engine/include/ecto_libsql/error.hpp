// Errors raised by the engine. Every failure carries a SQLite (extended) result code and a
// message; remote failures also carry the server's error code (e.g. "SQLITE_CONSTRAINT").
#pragma once

#include <exception>
#include <string>
#include <string_view>

namespace ecto_libsql {

// Result codes the engine uses besides SQLite's own (kept outside SQLite's range).
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

class Error : public std::exception {
 public:
  Error(int code, std::string message, std::string remote_code = {})
      : code_(code), message_(std::move(message)), remote_code_(std::move(remote_code)) {}

  // SQLite extended result code (the primary code is code() & 0xff).
  [[nodiscard]] int code() const noexcept { return code_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  // The server's error code for remote errors, empty otherwise.
  [[nodiscard]] const std::string& remote_code() const noexcept { return remote_code_; }
  [[nodiscard]] const char* what() const noexcept override { return message_.c_str(); }

 private:
  int code_;
  std::string message_;
  std::string remote_code_;
};

// A handle that was closed, or used with a connection that does not own it.
[[noreturn]] inline void throw_misuse(std::string message) {
  throw Error(kCodeMisuse, std::move(message));
}

// Names of SQLite result codes: "constraint" for 19, "constraint_unique" for 2067.
std::string_view primary_code_name(int code) noexcept;
std::string_view extended_code_name(int code) noexcept;

}  // namespace ecto_libsql
