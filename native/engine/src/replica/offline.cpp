#include "replica/offline.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "ecto_libsql/error.hpp"
#include "replica/libsql_http.hpp"
#include "replica/turso_push.hpp"
#include "replica/wal_frames.hpp"

namespace ecto_libsql::replica {

namespace json = boost::json;

namespace {

constexpr std::uint32_t kPushBatch = 128;

std::function<void(OfflineStep)>& fault_hook() {
  static std::function<void(OfflineStep)> hook;
  return hook;
}

void reached(OfflineStep step) {
  if (fault_hook()) fault_hook()(step);
}

void remove_if_present(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    throw Error(kCodeIoErr, "cannot remove " + path + ": " + std::strerror(errno));
  }
}

bool same_page(std::uint64_t pgno, std::string_view a, std::string_view b) {
  if (pgno != 1) return a == b;
  // Page 1 without the file change counter (24..27) and its copy (92..95), which every apply
  // sets for the file it writes.
  return a.substr(0, 24) == b.substr(0, 24) && a.substr(28, 64) == b.substr(28, 64) &&
         a.substr(96) == b.substr(96);
}

std::string position_of(const SyncState& state) {
  return state.revision.empty() ? "0" : state.revision;
}

std::uint32_t counter_of(const std::string& path, std::optional<std::string_view> key, int busy) {
  return ReplicaFile(path, key, busy, false).change_counter();
}

// The change counter of `schema` on a connection holding its SHARED lock.
std::uint32_t counter_on(sqlite3* db, const char* schema) {
  sqlite3_file* f = nullptr;
  if (sqlite3_file_control(db, schema, SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f) {
    throw Error(kCodeIoErr, "offline push: cannot read the file change counter");
  }
  unsigned char head[4] = {};
  if (f->pMethods->xRead(f, head, 4, 24) != SQLITE_OK) {
    throw Error(kCodeIoErr, "offline push: cannot read the file change counter");
  }
  return (std::uint32_t{head[0]} << 24) | (std::uint32_t{head[1]} << 16) |
         (std::uint32_t{head[2]} << 8) | std::uint32_t{head[3]};
}

void exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw Error(sqlite3_extended_errcode(db),
                std::string("offline push: ") + sqlite3_errmsg(db) + " (" + sql + ")");
  }
}

std::string conflict_message(const std::string& database, const std::string& detail) {
  return "offline writes could not be pushed: " + detail + ". The local changes are kept in " +
         database +
         " and were not applied on the server. To keep them, copy them out (freeze_replica/1 "
         "turns the file into a plain local database), then remove the replica's files and "
         "connect again to bootstrap it from the server";
}

}  // namespace

void set_offline_fault_hook(std::function<void(OfflineStep)> hook) {
  fault_hook() = std::move(hook);
}

std::string base_path(const std::string& database) {
  return database + "-base";
}
std::string push_intent_path(const std::string& database) {
  return database + "-push";
}
std::string pull_intent_path(const std::string& database) {
  return database + "-pull";
}

std::uint64_t Intent::number(const std::string& key) const {
  const auto it = fields.find(key);
  if (it == fields.end()) throw Error(kCodeNotADb, "replica intent file lacks " + key);
  try {
    return std::stoull(it->second);
  } catch (const std::exception&) {
    throw Error(kCodeNotADb, "replica intent file has a bad " + key);
  }
}

void write_intent(const std::string& path, const Intent& intent) {
  std::string bytes = "ecto_libsql-intent 1\n";
  for (const auto& [key, value] : intent.fields) {
    bytes.append(key).append(" ").append(value).append("\n");
  }
  bytes += "\n";
  bytes += intent.payload;
  write_file_atomically(path, bytes);
}

std::optional<Intent> read_intent(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string line;
  if (!std::getline(in, line) || line != "ecto_libsql-intent 1") {
    throw Error(kCodeNotADb, "replica intent file " + path + " is not recognised");
  }
  Intent intent;
  while (std::getline(in, line) && !line.empty()) {
    const auto space = line.find(' ');
    intent.fields[line.substr(0, space)] =
        space == std::string::npos ? std::string() : line.substr(space + 1);
  }
  std::ostringstream rest;
  rest << in.rdbuf();
  intent.payload = rest.str();
  return intent;
}

PageSet differing_pages(const ReplicaFile& from, const ReplicaFile& to) {
  PageSet out;
  const std::uint64_t n = from.page_count();
  const std::uint64_t m = to.page_count();
  for (std::uint64_t p = 1; p <= n; ++p) {
    auto page = std::make_shared<const std::string>(from.read(p));
    if (p <= m && same_page(p, *page, to.read(p))) continue;
    out.hold(page);
    out.put(p, *page);
  }
  out.set_db_size(n);
  return out;
}

void remove_base(const std::string& database) {
  const std::string base = base_path(database);
  for (const char* suffix : {"", "-integrity", "-journal", ".bootstrap", ".bootstrap-integrity"})
    remove_if_present(base + suffix);
}

OfflineWrites::OfflineWrites(std::string database, std::optional<std::string_view> key,
                             const std::atomic<int>& busy_timeout_ms, SyncTarget target,
                             ProtocolKind kind)
    : database_(std::move(database)),
      key_(key),
      busy_timeout_ms_(busy_timeout_ms),
      target_(std::move(target)),
      kind_(kind) {}

void OfflineWrites::recover(SyncState& state) {
  // A push: done when the state shows it (or the base holds its pages), else resent later.
  if (auto intent = read_intent(push_intent_path(database_))) {
    if (intent->fields["kind"] == "frames") {
      const std::uint64_t last = intent->number("start") + intent->number("count") - 1;
      const bool recorded = state.generation == intent->number("generation") &&
                            std::stoull(position_of(state)) >= last &&
                            state.synced_counter == intent->number("db_counter");
      if (recorded) {
        remove_if_present(push_intent_path(database_));
      } else if (counter_of(base_path(database_), key_, busy()) ==
                 intent->number("base_counter") + 1) {
        state.revision = std::to_string(last);
        state.generation = intent->number("answered_generation_or_same");
        state.synced_counter = intent->number("db_counter");
        state.pushed_counter = 0;
        save_sync_state(database_, state);
        remove_if_present(push_intent_path(database_));
      }
    } else if (state.push_id >= intent->number("change_id")) {
      remove_if_present(push_intent_path(database_));
    }
  }
  if (const auto intent = read_intent(pull_intent_path(database_))) finish_pull(*intent, state);

  // No base yet: a replica that was not offline (its file has no local change), or a base lost
  // before its creation was recorded.
  if (::access(base_path(database_).c_str(), F_OK) != 0 || !state.offline) {
    const std::uint32_t counter = counter_of(database_, key_, busy());
    if (state.offline && (counter != state.synced_counter || state.pushed_counter != 0)) {
      throw Error(kCodeCantOpen,
                  "Failed to connect: " + base_path(database_) +
                      " (the copy offline writes are compared with) is missing, so the local "
                      "changes since the last sync cannot be told apart; freeze_replica/1 keeps "
                      "the file as a plain local database");
    }
    remove_base(database_);
    PageSet all;
    {
      ReplicaFile db(database_, key_, busy(), false);
      const std::uint64_t n = db.page_count();
      for (std::uint64_t p = 1; p <= n; ++p) {
        auto page = std::make_shared<const std::string>(db.read(p));
        all.hold(page);
        all.put(p, *page);
      }
      all.set_db_size(n);
    }
    apply_pull(
        base_path(database_), all, busy(), [] {}, key_);
    state.offline = true;
    state.synced_counter = counter;
    state.pushed_counter = 0;
    save_sync_state(database_, state);
  }
}

OfflineWrites::Local OfflineWrites::local_state(const SyncState& state) const {
  if (::access(push_intent_path(database_).c_str(), F_OK) == 0) return Local::Changed;
  const std::uint32_t counter = counter_of(database_, key_, busy());
  if (state.pushed_counter != 0) {
    return counter == state.pushed_counter ? Local::Pushed : Local::Changed;
  }
  return counter == state.synced_counter ? Local::Clean : Local::Changed;
}

std::int64_t OfflineWrites::push(SyncState& state) {
  switch (kind_) {
    case ProtocolKind::LibsqlHttp:
      return push_frames(state);
    case ProtocolKind::Turso:
      return push_logical(state);
    case ProtocolKind::LibsqlGrpc:
      break;
  }
  throw Error(kCodeMisuse, "offline writes cannot be pushed over the libSQL gRPC replication log");
}

std::int64_t OfflineWrites::push_frames(SyncState& state) {
  std::optional<Intent> intent = read_intent(push_intent_path(database_));
  if (!intent) {
    Intent plan;
    std::vector<std::pair<std::uint32_t, std::string_view>> pages;
    std::string first;
    PageSet diff;
    std::uint32_t db_counter = 0;
    std::uint32_t base_counter = 0;
    std::uint64_t db_size = 0;
    {
      // A stable view of both files: local writers wait for the commit of theirs.
      ReplicaFile db(database_, key_, busy(), false);
      ReplicaFile base(base_path(database_), key_, busy(), false);
      db_counter = db.change_counter();
      base_counter = base.change_counter();
      diff = differing_pages(db, base);
      db_size = db.page_count();
      if (diff.empty() && db_size == base.page_count()) {
        state.synced_counter = db_counter;  // written, but nothing changed
        save_sync_state(database_, state);
        return 0;
      }
      // Page 1 goes always: it carries the database size. The server's file is in WAL mode.
      first = db.read(1);
    }
    first[18] = 2;
    first[19] = 2;
    pages.emplace_back(1, first);
    for (const auto& [pgno, data] : diff.pages()) {
      if (pgno != 1) pages.emplace_back(static_cast<std::uint32_t>(pgno), data);
    }
    std::random_device rd;
    plan.fields["kind"] = "frames";
    plan.fields["generation"] = std::to_string(state.generation);
    plan.fields["answered_generation_or_same"] = std::to_string(state.generation);
    plan.fields["start"] = std::to_string(std::stoull(position_of(state)) + 1);
    plan.fields["count"] = std::to_string(pages.size());
    plan.fields["db_size"] = std::to_string(db_size);
    plan.fields["db_counter"] = std::to_string(db_counter);
    plan.fields["base_counter"] = std::to_string(base_counter);
    plan.payload = encode_wal_frames(pages, static_cast<std::uint32_t>(db_size), rd(), rd());
    write_intent(push_intent_path(database_), plan);
    intent = std::move(plan);
    reached(OfflineStep::PushPlanned);
  }

  const std::uint64_t generation = intent->number("generation");
  const std::uint64_t start = intent->number("start");
  const std::uint64_t count = intent->number("count");
  const std::uint64_t end = start + count;
  if (intent->payload.size() != count * kFrameSize) {
    throw Error(kCodeNotADb,
                "replica intent file " + push_intent_path(database_) + " does not hold its frames");
  }
  LibsqlHttp http(target_);
  std::uint64_t next = start;
  std::uint64_t answered = generation;
  std::string baton;
  bool resent = false;
  while (next < end) {
    const auto batch = static_cast<std::uint32_t>(std::min<std::uint64_t>(kPushBatch, end - next));
    const LibsqlHttp::Pushed r = http.push(
        generation, next, batch,
        std::string_view(intent->payload).substr((next - start) * kFrameSize, batch * kFrameSize),
        baton);
    const std::uint64_t last = next + batch - 1;
    if (r.conflict) {
      remove_if_present(push_intent_path(database_));
      throw Error(kCodeBusy,
                  LibsqlHttp::title() + ": " +
                      conflict_message(
                          database_, "the server answered \"conflict\" to frames " +
                                         std::to_string(next) + ".." + std::to_string(last) +
                                         " of generation " + std::to_string(generation) +
                                         " (its log is at frame " + std::to_string(r.max_frame_no) +
                                         " of generation " + std::to_string(r.generation) +
                                         "): the database changed on the server since this "
                                         "replica last synced"));
    }
    if (r.max_frame_no > last) {
      throw Error(kCodeProtocol, LibsqlHttp::title() + ": the server answered max_frame_no " +
                                     std::to_string(r.max_frame_no) + " to frames up to " +
                                     std::to_string(last));
    }
    if (r.max_frame_no < last) {
      // The server's log ends at max_frame_no: libsql sends again from there, once.
      if (r.max_frame_no + 1 < start || resent) {
        throw Error(kCodeProtocol, LibsqlHttp::title() + ": the server's log ends at frame " +
                                       std::to_string(r.max_frame_no) +
                                       ", before the frames pushed (" + std::to_string(next) +
                                       ".." + std::to_string(last) + ")");
      }
      resent = true;
      next = r.max_frame_no + 1;
      baton.clear();
      continue;
    }
    baton = r.baton;
    answered = r.generation;
    next = last + 1;
  }
  intent->fields["answered_generation_or_same"] = std::to_string(answered);
  write_intent(push_intent_path(database_), *intent);
  reached(OfflineStep::PushSent);

  // The server holds the pages now: so does the base.
  {
    ReplicaFile base(base_path(database_), key_, busy(), true);
    if (base.change_counter() == intent->number("base_counter")) {
      auto frames = std::make_shared<const std::string>(intent->payload);
      PageSet pages;
      pages.hold(frames);
      for (const WalFrameView& f : split_wal_frames(*frames))
        pages.put(f.page_no, f.page);
      pages.commit(intent->number("db_size"));
      pages.finish();
      base.apply(pages);
    }
  }
  reached(OfflineStep::PushApplied);
  state.revision = std::to_string(end - 1);
  state.generation = answered;
  state.synced_counter = intent->number("db_counter");
  state.pushed_counter = 0;
  save_sync_state(database_, state);
  reached(OfflineStep::PushRecorded);
  remove_if_present(push_intent_path(database_));
  return static_cast<std::int64_t>(count);
}

std::int64_t OfflineWrites::push_logical(SyncState& state) {
  std::optional<Intent> intent = read_intent(push_intent_path(database_));
  if (!intent) {
    DbHandle conn = open_private(database_, key_);
    sqlite3_busy_timeout(conn.get(), busy());
    attach_private(conn.get(), base_path(database_), "base", key_);
    exec(conn.get(),
         "BEGIN; SELECT count(*) FROM main.sqlite_schema; SELECT count(*) FROM base.sqlite_schema");
    const std::uint32_t db_counter = counter_on(conn.get(), "main");
    LogicalChanges changes;
    try {
      changes = logical_changes(conn.get());
    } catch (...) {
      sqlite3_exec(conn.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    sqlite3_exec(conn.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    conn.reset();
    if (changes.empty()) {
      // Pages differ but no row does (a VACUUM, an index rebuilt): the next pull copies the
      // base back.
      state.pushed_counter = db_counter;
      save_sync_state(database_, state);
      return 0;
    }
    Intent plan;
    plan.fields["kind"] = "logical";
    plan.fields["change_id"] = std::to_string(state.push_id + 1);
    plan.fields["db_counter"] = std::to_string(db_counter);
    plan.fields["rows"] = std::to_string(changes.rows);
    std::string optional;
    for (std::size_t i = 0; i < changes.steps.size(); ++i) {
      // Batch step numbers: BEGIN and the bookkeeping table come first.
      if (changes.steps[i].may_fail)
        optional += (optional.empty() ? "" : ",") + std::to_string(i + 2);
    }
    plan.fields["optional_steps"] = optional;
    plan.payload = encode_push_pipeline(changes, state.client_id, state.push_id + 1);
    write_intent(push_intent_path(database_), plan);
    intent = std::move(plan);
    reached(OfflineStep::PushPlanned);
  }
  const std::uint64_t change_id = intent->number("change_id");
  const std::string title(protocol_title(kind_));
  SyncClient client(target_.endpoint, target_.client);

  auto results_of = [&](const HttpReply& reply, const std::string& what) -> json::value {
    if (reply.status != 200)
      throw answer_error(kind_, "POST /v2/pipeline (" + what + ")", reply, client);
    json::error_code ec;
    json::value v = json::parse(reply.body, ec);
    const json::array* results = nullptr;
    if (!ec && v.is_object()) {
      if (const auto* r = v.get_object().if_contains("results"); r && r->is_array()) {
        results = &r->get_array();
      }
    }
    if (results == nullptr || results->empty() || !(*results)[0].is_object()) {
      throw answer_error(kind_, "POST /v2/pipeline (" + what + ")", reply, client,
                         "not a Hrana pipeline answer");
    }
    return (*results)[0];
  };

  // Already applied (the answer to an earlier push was lost)?
  const json::value last = results_of(
      client.post("/v2/pipeline", encode_last_change_query(state.client_id), "application/json"),
      "last change id");
  std::uint64_t server_id = 0;
  if (last.at("type") == "ok") {
    const json::value& rows = last.at("response").at("result").at("rows");
    if (rows.is_array() && !rows.get_array().empty()) {
      const json::value& cell = rows.get_array()[0].at(1);
      if (cell.at("type") == "integer") {
        server_id = std::stoull(std::string(cell.at("value").as_string()));
      }
    }
  } else {
    const std::string message(last.at("error").at("message").as_string());
    if (message.find("no such table") == std::string::npos) {
      throw Error(kCodeIoErr,
                  title + ": reading turso_sync_last_change_id failed: " + client.excerpt(message));
    }
  }

  if (server_id < change_id) {
    const json::value batch =
        results_of(client.post("/v2/pipeline", intent->payload, "application/json"), "push");
    if (batch.at("type") != "ok") {
      throw Error(kCodeIoErr, title + ": the push was refused: " +
                                  client.excerpt(batch.at("error").at("message").as_string()));
    }
    const json::object& result = batch.at("response").at("result").as_object();
    const json::array& step_results = result.at("step_results").as_array();
    const json::array& step_errors = result.at("step_errors").as_array();
    const std::size_t commit = step_results.size() >= 2 ? step_results.size() - 2 : 0;
    if (step_results.size() < 2 || step_results[commit].is_null()) {
      // Rolled back: nothing was applied. Name the first step that failed.
      std::string reason = "COMMIT did not run";
      const std::string optional = "," + intent->fields["optional_steps"] + ",";
      for (std::size_t i = 0; i < step_errors.size(); ++i) {
        if (step_errors[i].is_null()) continue;
        if (optional.find("," + std::to_string(i) + ",") != std::string::npos) continue;
        reason = "step " + std::to_string(i) +
                 " failed: " + std::string(step_errors[i].at("message").as_string());
        break;
      }
      remove_if_present(push_intent_path(database_));
      throw Error(kCodeConstraint, title + ": " +
                                       conflict_message(database_, "the server refused them (" +
                                                                       client.excerpt(reason) +
                                                                       "); nothing was applied"));
    }
  }
  reached(OfflineStep::PushSent);
  state.push_id = change_id;
  state.pushed_counter = intent->number("db_counter");
  save_sync_state(database_, state);
  reached(OfflineStep::PushRecorded);
  remove_if_present(push_intent_path(database_));
  return static_cast<std::int64_t>(intent->number("rows"));
}

void OfflineWrites::apply(const PageSet& pages, const SyncState& next, SyncState& state) {
  // The file's lock is held throughout: local readers and writers wait for the whole pull.
  ReplicaFile db(database_, key_, busy(), true);
  const std::uint32_t counter = db.change_counter();
  const bool pushed = state.pushed_counter != 0 && counter == state.pushed_counter;
  const bool clean = state.pushed_counter == 0 && counter == state.synced_counter;
  if (!pushed && !clean) {
    throw Error(kCodeBusy,
                "sync: local writes arrived while pulling; sync again to push them first");
  }
  if (pages.empty() && !pushed) {
    SyncState done = next;
    done.synced_counter = counter;
    save_sync_state(database_, done);
    state = std::move(done);
    return;
  }
  ReplicaFile base(base_path(database_), key_, busy(), true);
  Intent intent;
  intent.fields["revision"] = next.revision;
  intent.fields["generation"] = std::to_string(next.generation);
  intent.fields["db_counter"] = std::to_string(counter);
  intent.fields["base_counter"] = std::to_string(base.change_counter());
  write_intent(pull_intent_path(database_), intent);
  reached(OfflineStep::PullPlanned);

  // The file first: if that fails, nothing changed. After a Turso push the server's pages are
  // not ours, so the file becomes the base's content with the pulled pages on top.
  PageSet for_file;
  if (pushed) {
    for_file = differing_pages(base, db);
    for (const auto& [pgno, data] : pages.pages())
      for_file.put(pgno, data);
    if (pages.committed()) for_file.set_db_size(pages.db_size());
  }
  try {
    db.apply(pushed ? for_file : pages);
  } catch (...) {
    remove_if_present(pull_intent_path(database_));
    throw;
  }
  reached(OfflineStep::PullFile);
  if (!pages.empty()) {
    try {
      base.apply(pages);
    } catch (...) {
      // The file holds the pull and the base does not: the file (still locked) is copied.
      ReplicaFile again(base_path(database_), key_, busy(), true);
      again.apply(differing_pages(db, again));
    }
  }
  reached(OfflineStep::PullBase);
  SyncState done = next;
  done.synced_counter = db.change_counter();
  done.pushed_counter = 0;
  save_sync_state(database_, done);
  reached(OfflineStep::PullRecorded);
  remove_if_present(pull_intent_path(database_));
  state = std::move(done);
}

void OfflineWrites::finish_pull(const Intent& intent, SyncState& state) {
  const std::uint64_t before = intent.number("db_counter");
  const auto revision = intent.fields.find("revision");
  if (revision == intent.fields.end()) {
    throw Error(kCodeNotADb,
                "replica intent file " + pull_intent_path(database_) + " is not recognised");
  }
  if (state.revision == revision->second && state.synced_counter == before + 1) {
    remove_if_present(pull_intent_path(database_));
    return;
  }
  ReplicaFile db(database_, key_, busy(), true);
  const std::uint32_t counter = db.change_counter();
  if (counter == before) {
    // The file comes first: it was not changed, nor was the base.
    remove_if_present(pull_intent_path(database_));
    return;
  }
  ReplicaFile base(base_path(database_), key_, busy(), true);
  if (counter != before + 1 && !differing_pages(db, base).empty()) {
    throw Error(kCodeCantOpen,
                "sync: " + database_ +
                    " was written after a pull was applied to it and before the pull was "
                    "recorded; its local changes cannot be told apart from the pull's. "
                    "freeze_replica/1 keeps the file as a plain local database");
  }
  if (base.change_counter() == intent.number("base_counter")) {
    base.apply(differing_pages(db, base));
  }
  state.revision = revision->second;
  state.generation = intent.number("generation");
  state.synced_counter = counter;
  state.pushed_counter = 0;
  save_sync_state(database_, state);
  remove_if_present(pull_intent_path(database_));
}

}  // namespace ecto_libsql::replica
