// Every statement of libSQL's vector oracles, replayed here: same results, same errors. One test
// per oracle line; a line's test first replays the lines before it (they build its state).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "libsql_oracle.hpp"
#include "test_support.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;

namespace {

std::string data(const std::string& name) {
  return std::string(ECTO_LIBSQL_TESTDATA) + "/libsql/" + name;
}

struct LineRef {
  std::string file;
  std::size_t index;
  bool stateless;  // every line stands alone (SELECTs only)
};

// vector_oracle.txt and vector_index_oracle.txt come with the project's reference data;
// vector_functions_oracle.txt is written by scripts/libsql-vector-oracle.js from libSQL itself.
std::vector<LineRef> all_lines() {
  std::vector<LineRef> refs;
  for (const char* file :
       {"vector_oracle.txt", "vector_index_oracle.txt", "vector_functions_oracle.txt"}) {
    const std::size_t n = read_oracle(data(file)).size();
    for (std::size_t i = 0; i < n; ++i)
      refs.push_back({file, i, std::string(file) == "vector_functions_oracle.txt"});
  }
  return refs;
}

class OracleLineTest : public ::testing::TestWithParam<LineRef> {};

TEST_P(OracleLineTest, MatchesLibsql) {
  const auto lines = read_oracle(data(GetParam().file));
  ASSERT_LT(GetParam().index, lines.size());
  TempDir dir;
  auto conn = open_local(dir.file("oracle.db"));
  for (std::size_t i = 0; !GetParam().stateless && i < GetParam().index; ++i) {
    Connection::Guard guard(*conn);
    try {
      auto stmt = conn->prepare(lines[i].sql);
      stmt->bind(Params{});
      while (stmt->step(nullptr) == Step::Row) {
      }
    } catch (const Error&) {
      // Lines that fail in libSQL fail here too (their own tests say so).
    }
  }
  check_oracle_line(*conn, lines[GetParam().index]);
}

INSTANTIATE_TEST_SUITE_P(Libsql, OracleLineTest, ::testing::ValuesIn(all_lines()),
                         [](const ::testing::TestParamInfo<LineRef>& info) {
                           const std::string prefix =
                               info.param.file == "vector_oracle.txt"         ? "Functions"
                               : info.param.file == "vector_index_oracle.txt" ? "Indexes"
                                                                              : "MoreFunctions";
                           return prefix + "_line" + std::to_string(info.param.index + 1);
                         });

// A line the replay skipped would be a silent gap.
TEST(OracleFiles, HoldTheExpectedNumberOfStatements) {
  EXPECT_EQ(read_oracle(data("vector_oracle.txt")).size(), 44u);
  EXPECT_EQ(read_oracle(data("vector_index_oracle.txt")).size(), 33u);
  EXPECT_GT(read_oracle(data("vector_functions_oracle.txt")).size(), 700u);
}

// The replay notices every kind of difference.
TEST(OracleFiles, ReplayReportsDifferences) {
  auto conn = open_local(":memory:");
  EXPECT_NONFATAL_FAILURE(check_oracle_line(*conn, {"SELECT 1", "[[2]]"}), "got [1,]");
  EXPECT_NONFATAL_FAILURE(check_oracle_line(*conn, {"SELECT 0.5", "[[0.25]]"}), "got");
  EXPECT_NONFATAL_FAILURE(check_oracle_line(*conn, {"SELECT 'a'", "[[\"b\"]]"}), "got");
  EXPECT_NONFATAL_FAILURE(
      check_oracle_line(*conn, {"SELECT x'01'", "[[{\"type\":\"Buffer\",\"data\":[2]}]]"}), "got");
  EXPECT_NONFATAL_FAILURE(check_oracle_line(*conn, {"SELECT 1 UNION ALL SELECT 2", "[[1]]"}),
                          "got");
  EXPECT_NONFATAL_FAILURE(
      check_oracle_line(*conn, {"SELECT 1 AS a", "cols=[\"b:null\"] rows=[[1]]"}), "got_columns");
  EXPECT_NONFATAL_FAILURE(
      check_oracle_line(*conn, {"SELECT nosuch()", "ERROR SQLITE_ERROR (1): something else"}),
      "no such function");
  EXPECT_NONFATAL_FAILURE(check_oracle_line(*conn, {"SELECT nosuch()", "ok"}), "no such function");
}

}  // namespace
