// The requests of libSQL's HTTP sync protocol (libsql/src/sync.rs), over one kept-alive
// connection: redirections are followed once, 5xx answers retried with back-off
// (100 ms × 2^n, five retries), as libsql does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "replica/page_set.hpp"
#include "replica/sync_driver.hpp"

namespace ecto_libsql::replica {

class LibsqlHttp {
 public:
  explicit LibsqlHttp(const SyncTarget& target);

  // GET /info: the current generation (above 0).
  std::uint64_t current_generation();
  // GET /export/{generation}: the whole database file as pages.
  PageSet export_database(std::uint64_t generation);

  struct Pulled {
    std::string frames;                              // WAL frames (may be fewer than asked)
    std::optional<std::uint64_t> end_of_generation;  // the generation the server is at
  };
  // GET /sync/{generation}/{start}/{start+count}.
  Pulled pull(std::uint64_t generation, std::uint64_t start, std::uint32_t count);

  struct Pushed {
    bool conflict = false;
    std::uint64_t generation = 0;
    std::uint64_t max_frame_no = 0;
    std::string baton;
  };
  // POST /sync/{generation}/{start}/{start+count}[/{baton}] with `frames`.
  Pushed push(std::uint64_t generation, std::uint64_t start, std::uint32_t count,
              std::string_view frames, const std::string& baton);

  [[nodiscard]] const SyncClient& client() const noexcept { return client_; }
  static std::string title();

  static constexpr int kRetries = 5;

 private:
  HttpReply send(bool post, const std::string& path, std::string_view body, bool pulling);

  SyncTarget target_;
  SyncClient client_;
};

}  // namespace ecto_libsql::replica
