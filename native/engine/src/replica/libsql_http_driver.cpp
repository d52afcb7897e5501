// libSQL's HTTP sync protocol (libsql/src/sync.rs; Turso Cloud): GET /info answers the current
// generation, GET /export/{generation} the whole database file, GET /sync/{g}/{start}/{end}
// the WAL frames start..end-1 of a generation (batches of 128); HTTP 400 or 500 with
// {"generation": G} ends a generation. Committed transactions are applied together, up to
// kApplyBytes at a time.
#include <boost/json.hpp>
#include <deque>
#include <future>
#include <thread>
#include <vector>

#include "ecto_libsql/error.hpp"
#include "replica/libsql_http.hpp"
#include "replica/sync_driver.hpp"
#include "replica/wal_frames.hpp"

namespace ecto_libsql::replica {

namespace json = boost::json;

namespace {

constexpr std::uint32_t kPullBatch = 128;
constexpr std::size_t kApplyBytes = std::size_t{64} << 20;

std::optional<std::uint64_t> json_number(const std::string& body, std::string_view key) {
  json::error_code ec;
  const json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::value* field = v.get_object().if_contains(key);
  if (field == nullptr) return std::nullopt;
  if (field->is_uint64()) return field->get_uint64();
  if (field->is_int64() && field->get_int64() >= 0) {
    return static_cast<std::uint64_t>(field->get_int64());
  }
  return std::nullopt;
}

class LibsqlHttpDriver final : public SyncDriver {
 public:
  explicit LibsqlHttpDriver(const SyncTarget& target) {
    for (std::size_t i = 0; i < kLanes; ++i)
      lanes_.push_back(std::make_unique<LibsqlHttp>(target));
  }
  [[nodiscard]] ProtocolKind kind() const noexcept override { return ProtocolKind::LibsqlHttp; }

  std::int64_t pull(SyncState& state, bool bootstrap, const ApplyFn& apply) override {
    LibsqlHttp& http = *lanes_[0];
    if (bootstrap) {
      const std::uint64_t generation = http.current_generation();
      PageSet file = http.export_database(generation);
      SyncState next = state;
      next.generation = generation;
      next.revision = "0";
      apply(file, next);
      state = std::move(next);
    }
    std::int64_t frames = 0;
    TransactionAssembler assembler;
    std::uint64_t durable = position(state);
    std::uint64_t next_frame = durable + 1;
    auto flush = [&] {
      if (!assembler.has_committed()) return;
      SyncState next = state;
      next.revision = std::to_string(durable);
      apply(assembler.take_committed(), next);
      state = std::move(next);
    };
    Window window(lanes_);
    window.start(state.generation, next_frame);
    while (true) {
      if (window.empty()) window.start(state.generation, next_frame);
      auto [start, pulled] = window.next();
      if (start != next_frame) {
        // Fetched ahead from where an earlier answer did not reach: asked again from there.
        window.start(state.generation, next_frame);
        continue;
      }
      if (pulled.end_of_generation) {
        window.stop();
        if (*pulled.end_of_generation <= state.generation) break;
        // A new generation: it starts from this one's final content, frames from 1.
        if (assembler.in_transaction()) {
          throw Error(kCodeProtocol, std::string(protocol_title(kind())) + ": generation " +
                                         std::to_string(state.generation) +
                                         " ended inside a transaction");
        }
        flush();
        SyncState next = state;
        next.generation = state.generation + 1;
        next.revision = "0";
        apply(PageSet(), next);
        state = std::move(next);
        durable = 0;
        next_frame = 1;
        window.start(state.generation, next_frame);
        continue;
      }
      auto body = std::make_shared<const std::string>(std::move(pulled.frames));
      assembler.hold(body);
      std::uint64_t got = 0;
      for (const WalFrameView& f : split_wal_frames(*body)) {
        if (assembler.add(f.page_no, f.page, f.size_after)) durable = next_frame;
        ++next_frame;
        ++got;
      }
      frames += static_cast<std::int64_t>(got);
      // A full batch: more may follow, so the next ones are fetched ahead, in parallel.
      if (got == kPullBatch) window.widen(state.generation);
      if (assembler.committed_bytes() >= kApplyBytes) flush();
    }
    flush();
    return frames;
  }

 private:
  // Requests for consecutive ranges of kPullBatch frames, up to kLanes of them in flight on
  // their own connections (a pull of one batch sends one request at a time, as libsql does;
  // a long one fetches ahead). Answers come back in order.
  class Window {
   public:
    explicit Window(std::vector<std::unique_ptr<LibsqlHttp>>& lanes) : lanes_(lanes) {}
    ~Window() { stop(); }
    Window(const Window&) = delete;
    Window& operator=(const Window&) = delete;

    // Forgets what is in flight and asks for the range from `from`.
    void start(std::uint64_t generation, std::uint64_t from) {
      stop();
      next_start_ = from;
      launch(generation, 0);
    }
    // Fills the window.
    void widen(std::uint64_t generation) {
      for (std::size_t lane = 0; lane < lanes_.size(); ++lane) {
        if (busy_ & (1U << lane)) continue;
        launch(generation, lane);
      }
    }
    [[nodiscard]] bool empty() const noexcept { return inflight_.empty(); }
    std::pair<std::uint64_t, LibsqlHttp::Pulled> next() {
      Fetch f = std::move(inflight_.front());
      inflight_.pop_front();
      busy_ &= ~(1U << f.lane);
      try {
        LibsqlHttp::Pulled pulled = f.result.get();
        return {f.start, std::move(pulled)};
      } catch (...) {
        stop();
        throw;
      }
    }
    // Waits for what is in flight; its answers are dropped.
    void stop() noexcept {
      for (auto& f : inflight_) {
        if (f.deferred) continue;  // never sent
        try {
          f.result.get();
        } catch (...) {
        }
      }
      inflight_.clear();
      busy_ = 0;
    }

   private:
    struct Fetch {
      std::uint64_t start;
      std::size_t lane;
      bool deferred;
      std::future<LibsqlHttp::Pulled> result;
    };
    void launch(std::uint64_t generation, std::size_t lane) {
      LibsqlHttp* http = lanes_[lane].get();
      const std::uint64_t start = next_start_;
      Fetch f{start, lane, inflight_.empty(), {}};
      if (f.deferred) {
        // The first request of a window runs on this thread when it is answered.
        f.result = std::async(std::launch::deferred, [http, generation, start] {
          return http->pull(generation, start, kPullBatch);
        });
      } else {
        f.result = std::async(std::launch::async, [http, generation, start] {
          return http->pull(generation, start, kPullBatch);
        });
      }
      inflight_.push_back(std::move(f));
      busy_ |= 1U << lane;
      next_start_ += kPullBatch;
    }
    std::vector<std::unique_ptr<LibsqlHttp>>& lanes_;
    std::deque<Fetch> inflight_;
    unsigned busy_ = 0;
    std::uint64_t next_start_ = 0;
  };

  static std::uint64_t position(const SyncState& state) {
    return state.revision.empty() ? 0 : std::stoull(state.revision);
  }

  static constexpr std::size_t kLanes = 3;
  std::vector<std::unique_ptr<LibsqlHttp>> lanes_;
};

}  // namespace

LibsqlHttp::LibsqlHttp(const SyncTarget& target)
    : target_(target), client_(target.endpoint, target.client) {}

std::string LibsqlHttp::title() {
  return std::string(protocol_title(ProtocolKind::LibsqlHttp));
}

HttpReply LibsqlHttp::send(bool post, const std::string& path, std::string_view body,
                           bool pulling) {
  remote::HttpExtras extras;
  extras.keep_headers = true;
  std::string target_path = path;
  std::unique_ptr<SyncClient> redirected;
  for (int attempt = 0;; ++attempt) {
    SyncClient& client = redirected ? *redirected : client_;
    HttpReply reply = post ? client.post(target_path, body, "application/octet-stream", extras)
                           : client.get(target_path, extras);
    if (reply.status >= 300 && reply.status < 400 && !redirected) {
      // libsql follows one redirection.
      const std::string location(reply.header("location"));
      if (location.empty()) {
        throw answer_error(ProtocolKind::LibsqlHttp, (post ? "POST " : "GET ") + path, reply,
                           client, "a redirection without a Location");
      }
      SyncEndpoint there = target_.endpoint;
      if (location.starts_with("/")) {
        target_path = location;
      } else {
        there = parse_sync_url(location);
        target_path = there.path;
      }
      there.path.clear();
      redirected = std::make_unique<SyncClient>(there, target_.client);
      continue;
    }
    const bool ends_generation = pulling && (reply.status == 400 || reply.status == 500) &&
                                 json_number(reply.body, "generation");
    if (reply.status >= 500 && attempt < kRetries && !ends_generation) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
      continue;
    }
    return reply;
  }
}

std::uint64_t LibsqlHttp::current_generation() {
  const HttpReply reply = send(false, "/info", {}, false);
  if (reply.status < 200 || reply.status >= 300) {
    throw answer_error(ProtocolKind::LibsqlHttp, "GET /info", reply, client_);
  }
  const auto generation = json_number(reply.body, "current_generation");
  if (!generation || *generation == 0) {
    throw answer_error(ProtocolKind::LibsqlHttp, "GET /info", reply, client_,
                       "no current_generation above 0");
  }
  return *generation;
}

PageSet LibsqlHttp::export_database(std::uint64_t generation) {
  const std::string path = "/export/" + std::to_string(generation);
  HttpReply reply = send(false, path, {}, false);
  if (reply.status != 200)
    throw answer_error(ProtocolKind::LibsqlHttp, "GET " + path, reply, client_);
  auto body = std::make_shared<const std::string>(std::move(reply.body));
  if (body->size() < kPageSize || body->size() % kPageSize != 0 ||
      body->compare(0, 16, std::string("SQLite format 3\0", 16)) != 0 ||
      (static_cast<unsigned char>((*body)[16]) << 8 | static_cast<unsigned char>((*body)[17])) !=
          static_cast<int>(kPageSize)) {
    throw Error(kCodeProtocol, title() + ": GET " + path +
                                   " did not answer a SQLite database with 4096-byte pages (" +
                                   std::to_string(body->size()) + " bytes)");
  }
  PageSet pages;
  pages.hold(body);
  const std::uint64_t count = body->size() / kPageSize;
  for (std::uint64_t p = 0; p < count; ++p) {
    pages.put(p + 1, std::string_view(*body).substr(p * kPageSize, kPageSize));
  }
  pages.set_db_size(count);
  return pages;
}

LibsqlHttp::Pulled LibsqlHttp::pull(std::uint64_t generation, std::uint64_t start,
                                    std::uint32_t count) {
  const std::string path = "/sync/" + std::to_string(generation) + "/" + std::to_string(start) +
                           "/" + std::to_string(start + count);
  HttpReply reply = send(false, path, {}, true);
  Pulled out;
  if (reply.status >= 200 && reply.status < 300) {
    if (reply.body.empty()) {
      throw answer_error(ProtocolKind::LibsqlHttp, "GET " + path, reply, client_, "no frames");
    }
    out.frames = std::move(reply.body);
    return out;
  }
  if (reply.status == 400 || reply.status == 500) {
    if (auto g = json_number(reply.body, "generation")) {
      out.end_of_generation = *g;
      return out;
    }
  }
  throw answer_error(ProtocolKind::LibsqlHttp, "GET " + path, reply, client_);
}

LibsqlHttp::Pushed LibsqlHttp::push(std::uint64_t generation, std::uint64_t start,
                                    std::uint32_t count, std::string_view frames,
                                    const std::string& baton) {
  std::string path = "/sync/" + std::to_string(generation) + "/" + std::to_string(start) + "/" +
                     std::to_string(start + count);
  if (!baton.empty()) path += "/" + baton;
  const HttpReply reply = send(true, path, frames, false);
  const std::string request = "POST /sync/" + std::to_string(generation) + "/" +
                              std::to_string(start) + "/" + std::to_string(start + count);
  if (reply.status < 200 || reply.status >= 300) {
    throw answer_error(ProtocolKind::LibsqlHttp, request, reply, client_);
  }
  json::error_code ec;
  const json::value v = json::parse(reply.body, ec);
  const json::object* o = !ec && v.is_object() ? &v.get_object() : nullptr;
  Pushed out;
  const auto number = [&](std::string_view key) -> std::optional<std::uint64_t> {
    return o ? json_number(reply.body, key) : std::nullopt;
  };
  const json::value* status = o ? o->if_contains("status") : nullptr;
  const auto generation_answered = number("generation");
  const auto max_frame_no = number("max_frame_no");
  if (status == nullptr || !status->is_string() || !generation_answered || !max_frame_no ||
      (status->get_string() != "ok" && status->get_string() != "conflict")) {
    throw answer_error(ProtocolKind::LibsqlHttp, request, reply, client_,
                       "not {status, generation, max_frame_no}");
  }
  out.conflict = status->get_string() == "conflict";
  out.generation = *generation_answered;
  out.max_frame_no = *max_frame_no;
  if (const json::value* b = o->if_contains("baton"); b != nullptr && b->is_string()) {
    out.baton = std::string(b->get_string());
  }
  return out;
}

std::unique_ptr<SyncDriver> make_libsql_http_driver(const SyncTarget& target) {
  return std::make_unique<LibsqlHttpDriver>(target);
}

}  // namespace ecto_libsql::replica
