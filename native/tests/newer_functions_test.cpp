// concat() and concat_ws() behave as SQLite 3.44's built-ins, whichever SQLite is linked.
#include <gtest/gtest.h>

#include "test_support.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;

TEST(NewerFunctions, ConcatSkipsNulls) {
  auto conn = open_local(":memory:");
  EXPECT_EQ(rows(*conn, "SELECT concat('a', NULL, 1, 2.5, 'é')")[0][0], "a12.5é");
  EXPECT_EQ(rows(*conn, "SELECT concat(NULL, NULL)")[0][0], "");
  EXPECT_EQ(rows(*conn, "SELECT concat(x'6869')")[0][0], "hi");
  EXPECT_EQ(rows(*conn, "SELECT concat(?, ?)", {std::string_view("x"), Null{}})[0][0], "x");
}

TEST(NewerFunctions, ConcatWsPutsTheSeparatorBetweenNonNullArguments) {
  auto conn = open_local(":memory:");
  EXPECT_EQ(rows(*conn, "SELECT concat_ws(', ', 'a', NULL, 'b', 3)")[0][0], "a, b, 3");
  EXPECT_EQ(rows(*conn, "SELECT concat_ws('-', NULL)")[0][0], "");
  EXPECT_EQ(rows(*conn, "SELECT concat_ws(NULL, 'a', 'b')")[0][0], "NULL");
  EXPECT_EQ(rows(*conn, "SELECT concat_ws('', 'a', 'b')")[0][0], "ab");
}

TEST(NewerFunctions, TooFewArgumentsAreAnError) {
  auto conn = open_local(":memory:");
  EXPECT_THROW(rows(*conn, "SELECT concat()"), Error);
  EXPECT_THROW(rows(*conn, "SELECT concat_ws(',')"), Error);
}
