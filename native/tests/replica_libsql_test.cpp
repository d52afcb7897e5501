// Embedded replicas over libSQL's protocols (HTTP sync and the gRPC-web replication log) against
// the libSQL sync test server, offline writes (HTTP sync against it, the Turso sync protocol
// against tursodb), a crash or an error at every step of applying a pull and of pushing; and the
// protocols' encoders and decoders.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ecto_libsql/replica/replica_connection.hpp"
#include "libsql_sync_server.hpp"
#include "replica/grpc_web.hpp"
#include "replica/offline.hpp"
#include "replica/page_apply.hpp"
#include "replica/sync_driver.hpp"
#include "replica/sync_state.hpp"
#include "replica/turso_push.hpp"
#include "replica/wal_frames.hpp"
#include "test_support.hpp"
#include "tursodb_server.hpp"

namespace ecto_libsql {
namespace {

using testing::rows;
using testing::TempDir;
namespace json = boost::json;

std::string count(Connection& conn, const std::string& table = "t") {
  return rows(conn, "SELECT count(*) FROM " + table)[0][0];
}

SyncStatus sync(Connection& conn) {
  Connection::Guard guard(conn);
  return conn.sync();
}

// Runs `body` in a child process that must end with _exit(42) (a crash at a hook).
void crash_in_child(const std::function<void()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    try {
      body();
    } catch (...) {
      ::_exit(1);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 42);
}

// --- encoders and decoders ---------------------------------------------------------------------

std::string page_of(char fill) {
  return std::string(replica::kPageSize, fill);
}

TEST(WalFrames, SplitGroupAndCommit) {
  const std::string a = page_of('a');
  const std::string b = page_of('b');
  const std::string frames = replica::encode_wal_frames({{1, a}, {3, b}}, 3, 7, 9);
  ASSERT_EQ(frames.size(), 2 * replica::kFrameSize);
  const auto split = replica::split_wal_frames(frames);
  ASSERT_EQ(split.size(), 2U);
  EXPECT_EQ(split[0].page_no, 1U);
  EXPECT_EQ(split[0].size_after, 0U);
  EXPECT_EQ(split[1].page_no, 3U);
  EXPECT_EQ(split[1].size_after, 3U);
  EXPECT_EQ(split[1].page, b);
  EXPECT_THROW(replica::split_wal_frames(""), Error);
  EXPECT_THROW(replica::split_wal_frames(frames.substr(1)), Error);

  // Frames join the committed set only with their commit frame.
  replica::TransactionAssembler assembler;
  EXPECT_FALSE(assembler.add(1, a, 0));
  EXPECT_FALSE(assembler.has_committed());
  EXPECT_TRUE(assembler.in_transaction());
  EXPECT_TRUE(assembler.add(2, b, 2));
  EXPECT_FALSE(assembler.add(1, b, 0));  // the next transaction, unfinished
  const replica::PageSet set = assembler.take_committed();
  EXPECT_EQ(set.db_size(), 2U);
  ASSERT_EQ(set.size(), 2U);
  EXPECT_EQ(set.pages().at(1), a);
  EXPECT_TRUE(assembler.in_transaction());
  EXPECT_FALSE(assembler.has_committed());
}

TEST(WalFrames, ShrinkThenGrowReadsZeros) {
  const std::string a = page_of('a');
  replica::PageSet set;
  set.put(1, a);
  set.put(4, a);
  set.commit(4);
  set.put(1, a);
  set.commit(2);  // pages 3 and 4 cut
  set.put(3, a);
  set.commit(4);  // grows again writing page 3 only: page 4 reads as zeros
  set.finish();
  EXPECT_EQ(set.db_size(), 4U);
  ASSERT_EQ(set.size(), 3U);
  EXPECT_EQ(set.pages().at(4), std::string(replica::kPageSize, '\0'));
  EXPECT_EQ(set.pages().at(3), a);
}

// The pushed frames are valid WAL frames: SQLite itself recovers a database from them.
TEST(WalFrames, SqliteRecoversFromEncodedFrames) {
  TempDir dir;
  const std::string source = dir.file("source.db");
  {
    auto conn = testing::open_local(source);
    testing::run(*conn, "CREATE TABLE t(x TEXT)");
    testing::run(*conn, "INSERT INTO t VALUES ('from frames'), ('ünï')");
  }
  std::ifstream in(source, std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(file.size() % replica::kPageSize, 0U);
  const auto n = static_cast<std::uint32_t>(file.size() / replica::kPageSize);
  std::vector<std::string> pages;
  for (std::uint32_t p = 0; p < n; ++p)
    pages.push_back(file.substr(p * replica::kPageSize, replica::kPageSize));
  pages[0][18] = 2;  // WAL mode
  pages[0][19] = 2;
  // The target: an empty database in WAL mode, and a WAL holding every page as one transaction.
  const std::string target = dir.file("target.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(target.c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE z(a); DROP TABLE z; VACUUM", nullptr,
                 nullptr, nullptr);
    sqlite3_close(db);
  }
  std::filesystem::remove(target + "-wal");
  std::filesystem::remove(target + "-shm");
  std::vector<std::pair<std::uint32_t, std::string_view>> frames;
  for (std::uint32_t p = 0; p < n; ++p)
    frames.emplace_back(p + 1, pages[p]);
  const std::uint32_t salt1 = 0x01020304;
  const std::uint32_t salt2 = 0xa0b0c0d0;
  std::string header(32, '\0');
  auto be = [&](std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
      header[at + static_cast<std::size_t>(i)] = static_cast<char>(v >> (24 - 8 * i));
  };
  be(0, 0x377f0682);
  be(4, 3007000);
  be(8, 4096);
  be(12, 0);
  be(16, salt1);
  be(20, salt2);
  std::uint32_t s1 = 0;
  std::uint32_t s2 = 0;
  for (std::size_t i = 0; i < 24; i += 8) {
    std::uint32_t w0 = 0;
    std::uint32_t w1 = 0;
    std::memcpy(&w0, header.data() + i, 4);
    std::memcpy(&w1, header.data() + i + 4, 4);
    s1 += w0 + s2;
    s2 += w1 + s1;
  }
  be(24, s1);
  be(28, s2);
  {
    std::ofstream wal(target + "-wal", std::ios::binary);
    wal << header << replica::encode_wal_frames(frames, n, salt1, salt2);
  }
  auto conn = testing::open_local(target);
  EXPECT_EQ(rows(*conn, "SELECT x FROM t ORDER BY rowid"),
            (std::vector<std::vector<std::string>>{{"from frames"}, {"ünï"}}));
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
}

TEST(GrpcWeb, FramesTrailersAndMessages) {
  using replica::grpc::read_answer;
  EXPECT_EQ(replica::grpc::frame_message("ab"), std::string("\0\0\0\0\x02"
                                                            "ab",
                                                            7));
  remote::HttpResponse r;
  r.status = 200;
  const std::string trailer = "grpc-status: 9\r\ngrpc-message: NEED%20SNAPSHOT\r\n";
  r.body = replica::grpc::frame_message("m1") + replica::grpc::frame_message("m2") +
           std::string(1, '\x80') + std::string("\0\0\0", 3) + static_cast<char>(trailer.size()) +
           trailer;
  auto answer = read_answer(r);
  ASSERT_EQ(answer.messages.size(), 2U);
  EXPECT_EQ(answer.messages[1], "m2");
  EXPECT_EQ(answer.status, 9);
  EXPECT_EQ(answer.message, "NEED SNAPSHOT");
  // Trailers-only: the status in the HTTP headers.
  remote::HttpResponse only;
  only.status = 200;
  only.headers = {{"grpc-status", "16"}, {"grpc-message", "AuthError"}};
  answer = read_answer(only);
  EXPECT_TRUE(answer.messages.empty());
  EXPECT_EQ(answer.status, 16);
  // Truncated frames and compressed messages are refused.
  r.body = r.body.substr(0, 6);
  EXPECT_THROW(read_answer(r), Error);
  r.body = std::string("\x01\0\0\0\x01x", 6);
  EXPECT_THROW(read_answer(r), Error);
}

TEST(GrpcWeb, WalLogMessages) {
  namespace grpc = replica::grpc;
  EXPECT_EQ(grpc::encode_hello_request(), std::string("\x08\x01", 2));
  EXPECT_EQ(grpc::encode_log_offset(300), std::string("\x08\xac\x02", 3));
  // HelloResponse{generation_id "g", generation_start_index 2, log_id "L", session_token "s",
  // current_replication_index 7, config {}}
  const std::string hello("\x0a\x01g\x10\x02\x1a\x01L\x22\x01s\x28\x07\x32\x00", 15);
  const auto decoded = grpc::decode_hello_response(hello);
  EXPECT_EQ(decoded.log_id, "L");
  EXPECT_EQ(decoded.session_token, "s");
  EXPECT_EQ(decoded.current_replication_index, 7U);
  EXPECT_THROW(grpc::decode_hello_response(std::string("\x0a\x05g", 3)), Error);
  EXPECT_THROW(grpc::decode_hello_response(""), Error);  // no log id
  // Frames{frames: [Frame{data "x", timestamp 1}, Frame{data "yz"}]}
  const std::string frames("\x0a\x05\x0a\x01x\x10\x01\x0a\x04\x0a\x02yz", 13);
  const auto data = grpc::decode_frames(frames);
  ASSERT_EQ(data.size(), 2U);
  EXPECT_EQ(data[1], "yz");
  EXPECT_EQ(grpc::namespace_metadata("127.0.0.1"), "MTI3");
  EXPECT_EQ(grpc::namespace_metadata("localhost"), "ZGVmYXVsdA");
  EXPECT_EQ(grpc::namespace_metadata("db-org.turso.io"), "ZGItb3Jn");
}

TEST(GrpcWeb, LogFrames) {
  std::string data(replica::kFrameSize, '\0');
  data[0] = 5;   // frame_no 5
  data[16] = 2;  // page 2
  data[20] = 9;  // size after 9
  data[24] = 'p';
  const auto f = replica::parse_log_frame(data);
  EXPECT_EQ(f.frame_no, 5U);
  EXPECT_EQ(f.page_no, 2U);
  EXPECT_EQ(f.size_after, 9U);
  EXPECT_EQ(f.page[0], 'p');
  EXPECT_THROW(replica::parse_log_frame(data.substr(1)), Error);
  data[16] = 0;
  EXPECT_THROW(replica::parse_log_frame(data), Error);
}

TEST(SyncProtocolChoice, NamesAndParsing) {
  EXPECT_FALSE(replica::parse_protocol("auto"));
  EXPECT_FALSE(replica::parse_protocol(""));
  EXPECT_EQ(*replica::parse_protocol("libsql_grpc"), replica::ProtocolKind::LibsqlGrpc);
  EXPECT_EQ(replica::protocol_name(replica::ProtocolKind::LibsqlHttp), "libsql_http");
  try {
    replica::parse_protocol("v3");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find(":auto, :libsql_http, :libsql_grpc or :turso"), std::string::npos);
  }
}

// The logical changes between a file and its base, as the Turso protocol pushes them.
TEST(TursoPush, LogicalChangesOfEveryKind) {
  TempDir dir;
  const std::string base = dir.file("base.db");
  const std::string main = dir.file("main.db");
  const char* schema[] = {
      "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, n REAL)",
      "CREATE TABLE k(a TEXT, b INTEGER, c BLOB, PRIMARY KEY (a, b)) WITHOUT ROWID",
      "CREATE TABLE nopk(x, y)",
      "CREATE TABLE gone(z)",
      "CREATE TABLE grows(id INTEGER PRIMARY KEY, a)",
      "CREATE INDEX t_v ON t(v)",
      "INSERT INTO t VALUES (1, 'one', 1.5), (2, 'two', 2.5), (3, 'three', NULL)",
      "INSERT INTO k VALUES ('a', 1, x'00'), ('b', 2, x'01')",
      "INSERT INTO nopk VALUES (1, 'x'), (2, 'y')",
      "INSERT INTO gone VALUES (1)",
      "INSERT INTO grows VALUES (1, 'a')",
  };
  for (const std::string& path : {base, main}) {
    auto conn = testing::open_local(path);
    for (const char* sql : schema)
      testing::run(*conn, sql);
  }
  {
    auto conn = testing::open_local(main);
    for (const char* sql :
         {"INSERT INTO t VALUES (4, 'four', 4.0)", "UPDATE t SET v = 'TWO' WHERE id = 2",
          "DELETE FROM t WHERE id = 3", "UPDATE k SET c = x'ff' WHERE a = 'b'",
          "DELETE FROM k WHERE a = 'a'", "INSERT INTO nopk VALUES (3, 'z')",
          "DELETE FROM nopk WHERE x = 1", "DROP TABLE gone",
          "ALTER TABLE grows ADD COLUMN b TEXT DEFAULT 'd'",
          "UPDATE grows SET b = 'set' WHERE id = 1",
          "CREATE TABLE fresh(id INTEGER PRIMARY KEY, s)", "INSERT INTO fresh VALUES (1, 's')",
          "CREATE INDEX fresh_s ON fresh(s)"})
      testing::run(*conn, sql);
  }
  replica::DbHandle db = replica::open_private(main, std::nullopt);
  replica::attach_private(db.get(), base, "base", std::nullopt);
  const replica::LogicalChanges changes = replica::logical_changes(db.get());
  std::vector<std::string> sql;
  for (const auto& s : changes.steps)
    sql.push_back(s.sql);
  auto has = [&](const std::string& text) {
    return std::find(sql.begin(), sql.end(), text) != sql.end();
  };
  EXPECT_TRUE(has("DROP TABLE IF EXISTS \"gone\""));
  EXPECT_TRUE(has("ALTER TABLE \"grows\" ADD COLUMN \"b\" TEXT DEFAULT 'd'"));
  EXPECT_TRUE(has("CREATE TABLE IF NOT EXISTS fresh(id INTEGER PRIMARY KEY, s)"));
  EXPECT_TRUE(has("CREATE INDEX IF NOT EXISTS fresh_s ON fresh(s)"));
  EXPECT_TRUE(
      has("INSERT INTO \"t\"(\"id\", \"v\", \"n\") VALUES (?,?,?) ON CONFLICT(\"id\") DO "
          "UPDATE SET \"id\" = excluded.\"id\",\"v\" = excluded.\"v\",\"n\" = excluded.\"n\""));
  EXPECT_TRUE(has("UPDATE \"t\" SET \"v\" = ? WHERE \"id\" = ?"));
  EXPECT_TRUE(has("DELETE FROM \"t\" WHERE \"id\" = ?"));
  EXPECT_TRUE(has("UPDATE \"k\" SET \"c\" = ? WHERE \"a\" = ? AND \"b\" = ?"));
  EXPECT_TRUE(has("DELETE FROM \"k\" WHERE \"a\" = ? AND \"b\" = ?"));
  EXPECT_TRUE(has("INSERT OR REPLACE INTO \"nopk\"(\"x\", \"y\", \"rowid\") VALUES (?,?,?)"));
  EXPECT_TRUE(has("DELETE FROM \"nopk\" WHERE rowid = ?"));
  EXPECT_TRUE(has("UPDATE \"grows\" SET \"b\" = ? WHERE \"id\" = ?"));
  // t: insert 4, update 2, delete 3; k: update, delete; nopk: insert, delete; grows: update;
  // fresh: insert.
  EXPECT_EQ(changes.rows, 9U);
  for (const auto& s : changes.steps) {
    if (s.sql.starts_with("UPDATE \"t\"")) {
      ASSERT_EQ(s.args.size(), 2U);
      EXPECT_EQ(std::get<std::string>(s.args[0]), "TWO");
      EXPECT_EQ(std::get<std::int64_t>(s.args[1]), 2);
    }
  }
  // Nothing changed: nothing to push.
  replica::DbHandle same = replica::open_private(base, std::nullopt);
  replica::attach_private(same.get(), base, "base", std::nullopt);
  EXPECT_TRUE(replica::logical_changes(same.get()).empty());

  const json::value body = json::parse(replica::encode_push_pipeline(changes, "client-1", 7));
  const json::array& steps = body.at("requests").at(0).at("batch").at("steps").as_array();
  EXPECT_EQ(steps.front().at("stmt").at("sql"), "BEGIN IMMEDIATE");
  EXPECT_EQ(steps[steps.size() - 2].at("stmt").at("sql"), "COMMIT");
  EXPECT_EQ(steps.back().at("stmt").at("sql"), "ROLLBACK");
  const json::value& bookkeeping = steps[steps.size() - 3].at("stmt");
  EXPECT_EQ(bookkeeping.at("args").at(0).at("value"), "client-1");
  EXPECT_EQ(bookkeeping.at("args").at(2).at("value"), "7");
}

// --- against the libSQL sync test server -------------------------------------------------------

class LibsqlReplicaTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string missing = testing::libsql_sync_server_missing();
    if (!missing.empty()) GTEST_SKIP() << missing;
    server_ =
        std::make_unique<testing::LibsqlSyncServer>(dir_.file("server.db"), GetParam(), "secret");
    server_->exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
    server_->exec("INSERT INTO t(v) VALUES ('one'), ('two'), ('thrée')");
  }

  [[nodiscard]] bool http() const { return GetParam() == "both"; }

  [[nodiscard]] ConnectOptions options(const std::string& name = "replica.db") const {
    ConnectOptions o;
    o.mode = Mode::Replica;
    o.database = dir_.file(name);
    o.uri = server_->url();
    o.auth_token = "secret";
    return o;
  }

  std::string protocol_of(const std::string& name) {
    return replica::load_sync_state(dir_.file(name))->protocol;
  }

  TempDir dir_;
  std::unique_ptr<testing::LibsqlSyncServer> server_;
};

TEST_P(LibsqlReplicaTest, ChoosesTheProtocolBootstrapsAndPulls) {
  auto conn = open_connection(options());
  EXPECT_EQ(protocol_of("replica.db"), http() ? "libsql_http" : "libsql_grpc");
  EXPECT_EQ(rows(*conn, "SELECT v FROM t ORDER BY id"),
            (std::vector<std::vector<std::string>>{{"one"}, {"two"}, {"thrée"}}));
  EXPECT_EQ(rows(*conn, "PRAGMA journal_mode")[0][0], "delete");
  const auto before = conn->replication_index();
  EXPECT_GT(before, 0);
  server_->exec("CREATE TABLE big(id INTEGER PRIMARY KEY, v TEXT)");
  for (int batch = 0; batch < 10; ++batch) {
    server_->exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
        "INSERT INTO big(v) SELECT printf('%0300d', i) FROM n");
  }
  const SyncStatus status = sync(*conn);
  EXPECT_GT(status.frame_no, before);
  EXPECT_GT(status.frames_synced, 700);  // 3 MB in 4 KiB pages
  EXPECT_EQ(count(*conn, "big"), "10000");
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
  EXPECT_EQ(conn->replication_index(), status.frame_no);
  // A second replica bootstraps the same 10,000 rows.
  auto second = open_connection(options("second.db"));
  EXPECT_EQ(count(*second, "big"), "10000");
  EXPECT_EQ(second->replication_index(), status.frame_no);
  // Nothing new: the position stays.
  EXPECT_EQ(sync(*conn).frame_no, status.frame_no);
}

TEST_P(LibsqlReplicaTest, ReadYourWritesAndFramePositions) {
  auto conn = open_connection(options());
  testing::run(*conn, "INSERT INTO t(v) VALUES ('four')");
  EXPECT_EQ(count(*conn), "4");  // pulled after the forwarded write
  EXPECT_EQ(server_->count("t"), 4);
  EXPECT_GT(conn->max_write_replication_index(), 0);
  EXPECT_EQ(conn->max_write_replication_index(), conn->replication_index());
  {
    Connection::Guard guard(*conn);
    conn->begin(TransactionBehaviour::Deferred, nullptr);
    conn->run("INSERT INTO t(v) VALUES ('five')");
    conn->run("INSERT INTO t(v) VALUES ('six')");
    conn->commit();
  }
  EXPECT_EQ(count(*conn), "6");
  server_->exec("INSERT INTO t(v) VALUES ('seven')");
  const auto now = conn->replication_index();
  {
    Connection::Guard guard(*conn);
    conn->sync_until(now + 1);
  }
  EXPECT_EQ(count(*conn), "7");
  EXPECT_EQ(conn->flush_replicator(), conn->replication_index());
}

TEST_P(LibsqlReplicaTest, NewGenerationOrSnapshot) {
  auto conn = open_connection(options());
  if (http()) {
    server_->exec("INSERT INTO t(v) VALUES ('before')");
    EXPECT_EQ(server_->new_generation(), 2);
    server_->exec("INSERT INTO t(v) VALUES ('after')");
    sync(*conn);
    EXPECT_EQ(count(*conn), "5");
    EXPECT_EQ(replica::load_sync_state(dir_.file("replica.db"))->generation, 2U);
    // A new replica bootstraps generation 2 from its export.
    auto fresh = open_connection(options("fresh.db"));
    EXPECT_EQ(count(*fresh), "5");
  } else {
    // Behind the compaction point: BatchLogEntries answers NEED_SNAPSHOT.
    server_->exec("INSERT INTO t(v) VALUES ('before')");
    server_->compact();
    server_->exec("INSERT INTO t(v) VALUES ('after')");
    sync(*conn);
    EXPECT_EQ(count(*conn), "5");
    auto fresh = open_connection(options("fresh.db"));
    EXPECT_EQ(count(*fresh), "5");
    EXPECT_EQ(fresh->replication_index(), conn->replication_index());
    const auto stats = server_->stats();
    EXPECT_GE(stats.at("requests").at("POST /wal_log.ReplicationLog/Snapshot").to_number<int>(), 2);
  }
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
}

// gRPC: a server whose log was replaced (a new log id at Hello) is replicated again from its
// start, over the local file.
TEST_P(LibsqlReplicaTest, NewLogIsReplicatedFromItsStart) {
  if (http()) GTEST_SKIP() << "log ids are the gRPC replication log's";
  auto conn = open_connection(options());
  const std::string old_log = replica::load_sync_state(dir_.file("replica.db"))->log_id;
  const int port = server_->port();
  server_->kill();
  server_ =
      std::make_unique<testing::LibsqlSyncServer>(dir_.file("other.db"), "grpc", "secret", port);
  server_->exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  server_->exec("CREATE TABLE other(x)");
  server_->exec("INSERT INTO t(v) VALUES ('replaced')");
  sync(*conn);
  EXPECT_EQ(rows(*conn, "SELECT v FROM t"), (std::vector<std::vector<std::string>>{{"replaced"}}));
  EXPECT_EQ(count(*conn, "other"), "0");
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
  EXPECT_NE(replica::load_sync_state(dir_.file("replica.db"))->log_id, old_log);
}

TEST_P(LibsqlReplicaTest, WrongTokenAndServerDown) {
  auto o = options("wrong.db");
  o.auth_token = "not-the-secret";
  try {
    open_connection(o);
    FAIL() << "a wrong token was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code() & 0xff, 23) << e.message();
    EXPECT_NE(e.message().find("refused the auth token"), std::string::npos) << e.message();
    EXPECT_EQ(e.message().find("not-the-secret"), std::string::npos);
    EXPECT_NE(e.message().find(http() ? "GET /info answered HTTP 401" : "gRPC"), std::string::npos)
        << e.message();
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.file("wrong.db")));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("wrong.db-sync")));
  auto conn = open_connection(options());
  server_->kill();
  try {
    sync(*conn);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("unreachable"), std::string::npos) << e.message();
  }
  EXPECT_EQ(count(*conn), "3");
  EXPECT_THROW(open_connection(options("fresh.db")), Error);
  EXPECT_FALSE(std::filesystem::exists(dir_.file("fresh.db")));
  // The protocol is remembered: a later connect does not ask the server.
  auto again = open_connection(options());
  EXPECT_EQ(count(*again), "3");
}

TEST_P(LibsqlReplicaTest, ForcedProtocols) {
  auto o = options("forced.db");
  o.sync_protocol = http() ? "libsql_grpc" : "libsql_http";
  if (http()) {
    // Both are served: the gRPC log can be forced.
    auto conn = open_connection(o);
    EXPECT_EQ(protocol_of("forced.db"), "libsql_grpc");
    EXPECT_EQ(count(*conn), "3");
  } else {
    try {
      open_connection(o);
      FAIL();
    } catch (const Error& e) {
      EXPECT_NE(e.message().find("libSQL HTTP sync: GET /info answered HTTP 404"),
                std::string::npos)
          << e.message();
    }
  }
  auto conn = open_connection(options());
  conn->close();
  o = options();
  o.sync_protocol = "turso";
  try {
    open_connection(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("was bootstrapped with the libSQL"), std::string::npos)
        << e.message();
  }
}

TEST_P(LibsqlReplicaTest, EncryptedReplica) {
  auto o = options("enc.db");
  o.encryption_key = std::string(40, 'k');
  server_->exec("INSERT INTO t(v) VALUES ('secret-marker-71')");
  {
    auto conn = open_connection(o);
    EXPECT_EQ(count(*conn), "4");
    server_->exec("INSERT INTO t(v) VALUES ('secret-marker-72')");
    sync(*conn);
    EXPECT_EQ(count(*conn), "5");
    EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
  }
  for (const char* suffix : {"", "-integrity"}) {
    std::ifstream in(dir_.file("enc.db") + suffix, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("secret-marker"), std::string::npos);
  }
}

TEST_P(LibsqlReplicaTest, BackgroundSync) {
  auto o = options();
  o.sync_interval = std::chrono::milliseconds(50);
  auto conn = open_connection(o);
  server_->exec("INSERT INTO t(v) VALUES ('four')");
  for (int i = 0; i < 1200 && count(*conn) != "4"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  EXPECT_EQ(count(*conn), "4");
  conn->close();
}

INSTANTIATE_TEST_SUITE_P(Protocols, LibsqlReplicaTest, ::testing::Values("both", "grpc"),
                         [](const auto& info) { return info.param == "both" ? "http" : "grpc"; });

// A crash (the process ends) or an error at every step of applying a pull, per protocol.
constexpr replica::ApplyStep kSteps[] = {
    replica::ApplyStep::Locked,        replica::ApplyStep::JournalWritten,
    replica::ApplyStep::JournalSynced, replica::ApplyStep::HalfWritten,
    replica::ApplyStep::PagesWritten,  replica::ApplyStep::DatabaseSynced,
    replica::ApplyStep::Committed};

class PullFaultTest : public ::testing::TestWithParam<std::tuple<std::string, bool>> {
 protected:
  void SetUp() override {
    const std::string missing = testing::libsql_sync_server_missing();
    if (!missing.empty()) GTEST_SKIP() << missing;
    server_ = std::make_unique<testing::LibsqlSyncServer>(dir_.file("server.db"),
                                                          std::get<0>(GetParam()));
    server_->exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
    server_->exec("INSERT INTO t(v) VALUES ('one'), ('two'), ('three')");
  }
  [[nodiscard]] ConnectOptions options(const std::string& name) const {
    ConnectOptions o;
    o.mode = Mode::Replica;
    o.database = dir_.file(name);
    o.uri = server_->url();
    return o;
  }
  TempDir dir_;
  std::unique_ptr<testing::LibsqlSyncServer> server_;
};

TEST_P(PullFaultTest, InterruptedPullLeavesOldOrNewState) {
  const bool crash = std::get<1>(GetParam());
  int step_no = 0;
  for (const replica::ApplyStep step : kSteps) {
    SCOPED_TRACE("step " + std::to_string(step_no));
    const std::string name = "fault" + std::to_string(step_no++) + ".db";
    { auto conn = open_connection(options(name)); }
    const auto old_state = replica::load_sync_state(dir_.file(name));
    ASSERT_TRUE(old_state);
    // Several transactions, pulled and applied as one batch.
    for (int i = 0; i < 3; ++i) {
      server_->exec(
          "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) "
          "INSERT INTO t(v) SELECT printf('%0100d', i) FROM n");
    }
    server_->exec("UPDATE t SET v = 'changed' WHERE id = 1");
    if (crash) {
      crash_in_child([&] {
        replica::set_apply_fault_hook([step](replica::ApplyStep s) {
          if (s == step) ::_exit(42);
        });
        auto conn = open_connection(options(name));
        sync(*conn);
      });
    } else {
      replica::set_apply_fault_hook([step](replica::ApplyStep s) {
        if (s == step) throw Error(kCodeIoErr, "injected fault");
      });
      auto conn = open_connection(options(name));
      EXPECT_THROW(sync(*conn), Error);
      replica::set_apply_fault_hook({});
    }
    auto plain = testing::open_local(dir_.file(name));
    EXPECT_EQ(rows(*plain, "PRAGMA integrity_check")[0][0], "ok");
    const std::string n = count(*plain);
    const std::string first = rows(*plain, "SELECT v FROM t WHERE id = 1")[0][0];
    const bool is_old = n == "3" && first == "one";
    const bool is_new = n == "303" && first == "changed";
    EXPECT_TRUE(is_old || is_new) << n << " rows, first " << first;
    const auto state = replica::load_sync_state(dir_.file(name));
    ASSERT_TRUE(state);
    if (is_old) {
      EXPECT_EQ(state->revision, old_state->revision);
    }
    if (step == replica::ApplyStep::Committed) {
      EXPECT_TRUE(is_new);
    }
    if (step <= replica::ApplyStep::DatabaseSynced) {
      EXPECT_TRUE(is_old);
    }
    plain->close();
    auto conn = open_connection(options(name));
    sync(*conn);
    EXPECT_EQ(count(*conn), "303");
    EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
    server_->exec("DELETE FROM t WHERE id > 3");
    server_->exec("UPDATE t SET v = 'one' WHERE id = 1");
  }
}

INSTANTIATE_TEST_SUITE_P(Protocols, PullFaultTest,
                         ::testing::Combine(::testing::Values("both", "grpc"),
                                            ::testing::Values(true, false)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) == "both" ? "http" : "grpc") +
                                  (std::get<1>(info.param) ? "_crash" : "_thrown");
                         });

// --- offline writes ----------------------------------------------------------------------------

// The server of an offline test: the libSQL sync test server (HTTP sync) or tursodb.
class OfflineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (turso()) {
      const std::string bin = testing::tursodb_path();
      if (bin.empty()) GTEST_SKIP() << "tursodb not found (scripts/setup --no-apt)";
      turso_ = std::make_unique<testing::TursoServer>(bin, dir_.file("server.db"));
      turso_->exec_all({"CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
                        "INSERT INTO t(v) VALUES ('one'), ('two'), ('three')"});
      url_ = turso_->url();
    } else {
      const std::string missing = testing::libsql_sync_server_missing();
      if (!missing.empty()) GTEST_SKIP() << missing;
      libsql_ = std::make_unique<testing::LibsqlSyncServer>(dir_.file("server.db"), "http");
      libsql_->exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      libsql_->exec("INSERT INTO t(v) VALUES ('one'), ('two'), ('three')");
      url_ = libsql_->url();
    }
  }

  [[nodiscard]] bool turso() const { return GetParam() == "turso"; }

  [[nodiscard]] ConnectOptions options(const std::string& name, bool offline = true) const {
    ConnectOptions o;
    o.mode = Mode::Replica;
    o.database = dir_.file(name);
    o.uri = url_;
    o.auth_token = "t";
    o.offline = offline;
    return o;
  }

  void server_exec(const std::string& sql) {
    if (turso_) {
      turso_->exec(sql);
    } else {
      libsql_->exec(sql);
    }
  }

  // What the server holds, seen by a fresh (not offline) replica.
  std::vector<std::vector<std::string>> server_rows(const std::string& sql) {
    const std::string name = "probe" + std::to_string(++probes_) + ".db";
    auto conn = open_connection(options(name, false));
    return rows(*conn, sql);
  }

  TempDir dir_;
  std::unique_ptr<testing::TursoServer> turso_;
  std::unique_ptr<testing::LibsqlSyncServer> libsql_;
  std::string url_;
  int probes_ = 0;
};

TEST_P(OfflineTest, WritesArePushedAndPulled) {
  auto conn = open_connection(options("offline.db"));
  EXPECT_TRUE(std::filesystem::exists(dir_.file("offline.db-base")));
  testing::run(*conn, "INSERT INTO t(v) VALUES ('local ünï')");
  testing::run(*conn, "UPDATE t SET v = 'uno' WHERE id = 1");
  testing::run(*conn, "DELETE FROM t WHERE id = 2");
  EXPECT_EQ(count(*conn), "3");
  EXPECT_EQ(server_rows("SELECT count(*) FROM t")[0][0], "3");  // not pushed yet
  const SyncStatus pushed = sync(*conn);
  EXPECT_GT(pushed.frames_synced, 0);
  EXPECT_EQ(
      server_rows("SELECT id, v FROM t ORDER BY id"),
      (std::vector<std::vector<std::string>>{{"1", "uno"}, {"3", "three"}, {"4", "local ünï"}}));
  // The server's writes come back; local writes made meanwhile are kept and pushed next.
  server_exec("INSERT INTO t(v) VALUES ('server')");
  sync(*conn);
  EXPECT_EQ(rows(*conn, "SELECT v FROM t WHERE id = 5")[0][0], "server");
  testing::run(*conn, "CREATE TABLE extra(k TEXT PRIMARY KEY, b BLOB)");
  testing::run(*conn, "INSERT INTO extra VALUES ('k', x'00ff10')");
  sync(*conn);
  EXPECT_EQ(server_rows("SELECT hex(b) FROM extra")[0][0], "00FF10");
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
  // Nothing waits: sync only pulls; a reopened replica carries on.
  sync(*conn);
  conn->close();
  auto again = open_connection(options("offline.db"));
  EXPECT_EQ(count(*again), "4");
  // Leaving offline mode is allowed with nothing to push; the base is removed.
  again->close();
  auto online = open_connection(options("offline.db", false));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("offline.db-base")));
  EXPECT_EQ(count(*online), "4");
}

TEST_P(OfflineTest, UnpushedWritesKeepTheReplicaOffline) {
  {
    auto conn = open_connection(options("offline.db"));
    testing::run(*conn, "INSERT INTO t(v) VALUES ('local')");
  }
  try {
    open_connection(options("offline.db", false));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("offline writes that were not pushed"), std::string::npos)
        << e.message();
  }
  auto conn = open_connection(options("offline.db"));
  EXPECT_EQ(count(*conn), "4");
  sync(*conn);
  EXPECT_EQ(server_rows("SELECT count(*) FROM t")[0][0], "4");
}

TEST_P(OfflineTest, ConflictIsAClearError) {
  if (turso()) {
    // Row changes are merged; a change the server refuses fails the whole push.
    auto conn = open_connection(options("a.db"));
    server_exec("CREATE UNIQUE INDEX t_v ON t(v)");
    testing::run(*conn, "INSERT INTO t(v) VALUES ('fine')");
    testing::run(*conn, "INSERT INTO t(id, v) VALUES (9, 'one')");  // 'one' is on the server
    try {
      sync(*conn);
      FAIL() << "the server took a row its unique index refuses";
    } catch (const Error& e) {
      EXPECT_NE(e.message().find("the server refused them"), std::string::npos) << e.message();
      EXPECT_NE(e.message().find("UNIQUE"), std::string::npos) << e.message();
      EXPECT_NE(e.message().find("nothing was applied"), std::string::npos) << e.message();
    }
    EXPECT_EQ(server_rows("SELECT count(*) FROM t WHERE v = 'fine'")[0][0], "0");  // all or nothing
    EXPECT_EQ(count(*conn), "5");                                                  // nothing lost
    // Once the local row no longer clashes, the push goes through.
    testing::run(*conn, "UPDATE t SET v = 'nine' WHERE id = 9");
    sync(*conn);
    EXPECT_EQ(server_rows("SELECT v FROM t WHERE id IN (4, 9) ORDER BY id"),
              (std::vector<std::vector<std::string>>{{"fine"}, {"nine"}}));
    return;
  }
  auto a = open_connection(options("a.db"));
  auto b = open_connection(options("b.db"));
  testing::run(*a, "INSERT INTO t(v) VALUES ('from a')");
  testing::run(*b, "INSERT INTO t(v) VALUES ('from b')");
  sync(*a);
  try {
    sync(*b);
    FAIL() << "b pushed over a's frames";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("conflict"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("local changes are kept"), std::string::npos) << e.message();
  }
  EXPECT_EQ(rows(*b, "SELECT v FROM t WHERE id = 4")[0][0], "from b");  // nothing lost
  EXPECT_EQ(server_rows("SELECT v FROM t WHERE id = 4")[0][0], "from a");
}

TEST_P(OfflineTest, EncryptedOfflineReplica) {
  auto o = options("enc.db");
  o.encryption_key = std::string(40, 'e');
  {
    auto conn = open_connection(o);
    testing::run(*conn, "INSERT INTO t(v) VALUES ('offline-secret-55')");
    sync(*conn);
    server_exec("INSERT INTO t(v) VALUES ('server-secret-56')");
    sync(*conn);
    EXPECT_EQ(count(*conn), "5");
    EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
  }
  EXPECT_EQ(server_rows("SELECT count(*) FROM t WHERE v = 'offline-secret-55'")[0][0], "1");
  for (const char* suffix : {"", "-integrity", "-base", "-base-integrity"}) {
    std::ifstream in(dir_.file("enc.db") + suffix, std::ios::binary);
    ASSERT_TRUE(in) << suffix;
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("-secret-5"), std::string::npos) << suffix;
  }
  // The base opens with the key only.
  o.encryption_key = std::string(40, 'w');
  EXPECT_THROW(open_connection(o), Error);
}

INSTANTIATE_TEST_SUITE_P(Protocols, OfflineTest, ::testing::Values("http", "turso"),
                         [](const auto& info) { return info.param; });

// A crash or an error at every step of a push and of the pull that follows: the next sync
// completes it; the server has every change exactly once; nothing local is lost.
class OfflineFaultTest : public OfflineTest {};

constexpr replica::OfflineStep kOfflineSteps[] = {
    replica::OfflineStep::PushPlanned, replica::OfflineStep::PushSent,
    replica::OfflineStep::PushApplied, replica::OfflineStep::PushRecorded,
    replica::OfflineStep::PullPlanned, replica::OfflineStep::PullFile,
    replica::OfflineStep::PullBase,    replica::OfflineStep::PullRecorded};

TEST_P(OfflineFaultTest, InterruptedSyncCompletesOnce) {
  for (const bool crash : {true, false}) {
    int step_no = 0;
    for (const replica::OfflineStep step : kOfflineSteps) {
      // A logical push leaves the base alone: the next pull brings the pushed rows to it.
      if (turso() && step == replica::OfflineStep::PushApplied) continue;
      const std::string name =
          std::string(crash ? "crash" : "thrown") + std::to_string(step_no++) + ".db";
      SCOPED_TRACE(name);
      { auto conn = open_connection(options(name)); }
      const std::string marker = "row of " + name;
      // A push, then (libSQL HTTP sync pulls only when nothing waits) a pull of a server write.
      auto write_and_sync = [&] {
        auto conn = open_connection(options(name));
        testing::run(*conn, "INSERT INTO t(v) VALUES ('" + marker + "')");
        sync(*conn);
        server_exec("INSERT INTO t(v) VALUES ('server after " + name + "')");
        sync(*conn);
      };
      if (crash) {
        crash_in_child([&] {
          replica::set_offline_fault_hook([step](replica::OfflineStep s) {
            if (s == step) ::_exit(42);
          });
          write_and_sync();
        });
      } else {
        replica::set_offline_fault_hook([step](replica::OfflineStep s) {
          if (s == step) throw Error(kCodeIoErr, "injected fault");
        });
        EXPECT_THROW(write_and_sync(), Error);
        replica::set_offline_fault_hook({});
      }
      auto conn = open_connection(options(name));
      EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t WHERE v = '" + marker + "'")[0][0], "1");
      sync(*conn);
      sync(*conn);
      EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
      EXPECT_EQ(server_rows("SELECT count(*) FROM t WHERE v = '" + marker + "'")[0][0], "1");
      EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t WHERE v = '" + marker + "'")[0][0], "1");
      EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t")[0][0],
                server_rows("SELECT count(*) FROM t")[0][0]);
      EXPECT_FALSE(std::filesystem::exists(dir_.file(name + "-push")));
      EXPECT_FALSE(std::filesystem::exists(dir_.file(name + "-pull")));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Protocols, OfflineFaultTest, ::testing::Values("http", "turso"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ecto_libsql
