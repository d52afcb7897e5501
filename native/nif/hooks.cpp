#include "hooks.hpp"

#include <atomic>
#include <condition_variable>
#include <optional>
#include <unordered_map>

#include "nif_support.hpp"

namespace ecto_libsql::nif {
namespace {

// initial-exec: no __tls_get_addr call on every NIF call (the library needs a few bytes of
// static TLS, which glibc reserves for dlopen()ed libraries).
[[gnu::tls_model("initial-exec")]] thread_local ErlNifEnv* t_caller_env = nullptr;

ERL_NIF_TERM optional_binary(ErlNifEnv* env, const char* text) {
  return text != nullptr ? make_binary(env, std::string_view(text)) : atoms::nil;
}

// SQLite's authorizer action codes (SQLITE_CREATE_INDEX = 1 ... SQLITE_RECURSIVE = 33).
const char* action_name(int action) {
  static constexpr const char* kNames[] = {"copy",
                                           "create_index",
                                           "create_table",
                                           "create_temp_index",
                                           "create_temp_table",
                                           "create_temp_trigger",
                                           "create_temp_view",
                                           "create_trigger",
                                           "create_view",
                                           "delete",
                                           "drop_index",
                                           "drop_table",
                                           "drop_temp_index",
                                           "drop_temp_table",
                                           "drop_temp_trigger",
                                           "drop_temp_view",
                                           "drop_trigger",
                                           "drop_view",
                                           "insert",
                                           "pragma",
                                           "read",
                                           "select",
                                           "transaction",
                                           "update",
                                           "attach",
                                           "detach",
                                           "alter_table",
                                           "reindex",
                                           "analyze",
                                           "create_vtable",
                                           "drop_vtable",
                                           "function",
                                           "savepoint",
                                           "recursive"};
  if (action >= 0 && action < static_cast<int>(std::size(kNames))) return kNames[action];
  return "unknown";
}

struct PendingDecision {
  std::mutex mutex;
  std::condition_variable ready;
  std::optional<int> answer;
};

std::mutex g_pending_mutex;
std::unordered_map<std::uint64_t, std::shared_ptr<PendingDecision>> g_pending;
std::atomic<std::uint64_t> g_next_request{1};

constexpr int kSqliteOk = 0;
constexpr int kSqliteDeny = 1;
constexpr int kSqliteIgnore = 2;

// Asks `pid` and waits for its answer; denies when it cannot be asked or does not answer.
int ask(const ErlNifPid& pid, std::chrono::milliseconds timeout, int action, const char* a1,
        const char* a2, const char* db, const char* trigger) {
  ErlNifEnv* env = CallerScope::current();
  if (env == nullptr) return kSqliteDeny;
  ErlNifPid self;
  if (enif_self(env, &self) != nullptr && enif_compare_pids(&self, &pid) == 0) {
    // The caller is blocked in this very call: it could never answer.
    return kSqliteDeny;
  }
  const std::uint64_t id = g_next_request.fetch_add(1);
  auto pending = std::make_shared<PendingDecision>();
  {
    std::lock_guard<std::mutex> lock(g_pending_mutex);
    g_pending.emplace(id, pending);
  }
  struct Unregister {
    std::uint64_t id;
    ~Unregister() {
      std::lock_guard<std::mutex> lock(g_pending_mutex);
      g_pending.erase(id);
    }
  } unregister{id};
  const ERL_NIF_TERM parts[] = {atoms::authorize,
                                enif_make_uint64(env, id),
                                enif_make_atom(env, action_name(action)),
                                optional_binary(env, a1),
                                optional_binary(env, a2),
                                optional_binary(env, db),
                                optional_binary(env, trigger)};
  const ERL_NIF_TERM msg = enif_make_tuple_from_array(env, parts, 7);
  if (!enif_send(env, &pid, nullptr, msg)) return kSqliteDeny;
  std::unique_lock<std::mutex> lock(pending->mutex);
  if (!pending->ready.wait_for(lock, timeout, [&] { return pending->answer.has_value(); })) {
    return kSqliteDeny;
  }
  return *pending->answer;
}

}  // namespace

CallerScope::CallerScope(ErlNifEnv* env) noexcept : previous_(t_caller_env) {
  t_caller_env = env;
}
CallerScope::~CallerScope() {
  t_caller_env = previous_;
}
ErlNifEnv* CallerScope::current() noexcept {
  return t_caller_env;
}

// set_update_hook(conn, pid | nil) — dirty. Sends {:update, :insert | :update | :delete, db,
// table, rowid} to the pid after each row change.
ERL_NIF_TERM set_update_hook(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    Connection& conn = *connection_arg(env, argv[0]).conn;
    UpdateHook hook;
    if (!is_nil(argv[1])) {
      ErlNifPid pid;
      if (!enif_get_local_pid(env, argv[1], &pid)) throw BadArg{};
      hook = [pid](UpdateKind kind, std::string_view db, std::string_view table,
                   std::int64_t rowid) {
        ErlNifEnv* caller = CallerScope::current();
        if (caller == nullptr) return;
        const ERL_NIF_TERM op = kind == UpdateKind::Insert   ? atoms::insert
                                : kind == UpdateKind::Delete ? atoms::delete_
                                                             : atoms::update;
        const ERL_NIF_TERM msg =
            enif_make_tuple5(caller, atoms::update, op, make_binary(caller, db),
                             make_binary(caller, table), enif_make_int64(caller, rowid));
        ErlNifPid target = pid;
        enif_send(caller, &target, nullptr, msg);
      };
    }
    Connection::Guard guard(conn);
    conn.set_update_hook(std::move(hook));
    return atoms::ok;
  });
}

// set_authorizer(conn, pid | nil, timeout_ms) — dirty. For each action SQLite checks while
// compiling a statement, the pid receives {:authorize, request_id, action, arg1, arg2, db,
// trigger} and answers with authorizer_reply/2; no answer within the timeout denies.
ERL_NIF_TERM set_authorizer(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    Connection& conn = *connection_arg(env, argv[0]).conn;
    Authorizer authorizer;
    if (!is_nil(argv[1])) {
      ErlNifPid pid;
      if (!enif_get_local_pid(env, argv[1], &pid)) throw BadArg{};
      const std::int64_t timeout_ms = int_arg(env, argv[2]);
      if (timeout_ms < 0) throw BadArg{};
      const auto timeout = std::chrono::milliseconds(timeout_ms);
      authorizer = [pid, timeout](int action, const char* a1, const char* a2, const char* db,
                                  const char* trigger) {
        return ask(pid, timeout, action, a1, a2, db, trigger);
      };
    }
    Connection::Guard guard(conn);
    conn.set_authorizer(std::move(authorizer));
    return atoms::ok;
  });
}

// authorizer_reply(request_id, :ok | :deny | :ignore)
ERL_NIF_TERM authorizer_reply(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    ErlNifUInt64 id = 0;
    if (!enif_get_uint64(env, argv[0], &id)) throw BadArg{};
    int answer = 0;
    if (enif_is_identical(argv[1], atoms::ok)) {
      answer = kSqliteOk;
    } else if (enif_is_identical(argv[1], atoms::deny)) {
      answer = kSqliteDeny;
    } else if (enif_is_identical(argv[1], atoms::ignore)) {
      answer = kSqliteIgnore;
    } else {
      throw BadArg{};
    }
    std::shared_ptr<PendingDecision> pending;
    {
      std::lock_guard<std::mutex> lock(g_pending_mutex);
      if (auto it = g_pending.find(id); it != g_pending.end()) pending = it->second;
    }
    if (!pending)
      return make_error(env, kCodeMisuse, "no authorizer request is waiting for this answer");
    {
      std::lock_guard<std::mutex> lock(pending->mutex);
      pending->answer = answer;
    }
    pending->ready.notify_all();
    return atoms::ok;
  });
}

}  // namespace ecto_libsql::nif
