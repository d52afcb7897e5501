// The one resolver of named parameters (parameters.hpp), as every mode binds through it.
#include "ecto_libsql/parameters.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "ecto_libsql/error.hpp"
#include "test_support.hpp"

using namespace ecto_libsql;

namespace {

std::vector<std::size_t> resolve(std::vector<std::string_view> names,
                                 const std::vector<NamedParam>& given) {
  return resolve_named(names, given);
}

// The message of the Error `f` throws, with its code checked.
template <class F>
std::string range_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kCodeRange);
    return e.message();
  }
  ADD_FAILURE() << "no error";
  return {};
}

}  // namespace

TEST(Parameters, PositionalValuesAreTakenInOrderWhenTheCountFits) {
  Params params;
  params.positional = {std::int64_t{1}, std::string_view("two"), Null{}};
  const std::vector<std::string> names{"", "?2", ""};
  const std::vector<const ParamValue*> values = parameter_values(names, params);
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0], &params.positional[0]);
  EXPECT_EQ(values[1], &params.positional[1]);
  EXPECT_EQ(values[2], &params.positional[2]);
  EXPECT_TRUE(parameter_values({}, Params{}).empty());
}

TEST(Parameters, WrongPositionalCountIsARangeError) {
  Params params;
  params.positional = {std::int64_t{1}};
  const std::vector<std::string> two{"", ""};
  EXPECT_EQ(range_error([&] { (void)parameter_values(two, params); }),
            "wrong number of parameters: the statement takes 2, 1 given");
  EXPECT_EQ(range_error([] { require_parameter_count(0, 3); }),
            "wrong number of parameters: the statement takes 0, 3 given");
  EXPECT_NO_THROW(require_parameter_count(2, 2));
}

TEST(Parameters, EveryPrefixIsMatchedWithOrWithoutIt) {
  const std::vector<NamedParam> given{
      {"$c", std::int64_t{3}}, {"a", std::int64_t{1}}, {"@b", std::int64_t{2}}};
  EXPECT_EQ(resolve({":a", "@b", "$c"}, given), (std::vector<std::size_t>{1, 2, 0}));
  // A parameter used twice takes the same value.
  EXPECT_EQ(resolve({":a", ":a"}, given), (std::vector<std::size_t>{1, 1}));
}

TEST(Parameters, AKeyWithAnotherPrefixDoesNotMatch) {
  const std::vector<NamedParam> given{{"@id", std::int64_t{1}}};
  EXPECT_EQ(range_error([&] { (void)resolve({":id"}, given); }),
            "Missing required parameters: :id. SQL requires: :id");
}

TEST(Parameters, StringKeysWinOverAtomKeysAndBareNamesOverPrefixedOnes) {
  const std::vector<NamedParam> given{{"id", std::int64_t{1}, true},
                                      {":id", std::int64_t{2}, false},
                                      {"id", std::int64_t{3}, false},
                                      {":id", std::int64_t{4}, true}};
  EXPECT_EQ(resolve({":id"}, given), (std::vector<std::size_t>{2}));
  const std::vector<NamedParam> prefixed{{":id", std::int64_t{2}}, {"id", std::int64_t{1}, true}};
  EXPECT_EQ(resolve({":id"}, prefixed), (std::vector<std::size_t>{0}));
}

TEST(Parameters, MissingValuesAreNamedWithWhatTheSqlRequires) {
  const std::vector<NamedParam> given{{"a", std::int64_t{1}}};
  EXPECT_EQ(range_error([&] {
              (void)resolve({":a", ":b", "@c"}, given);
            }),
            "Missing required parameters: :b, @c. SQL requires: :a, :b, @c");
  EXPECT_EQ(range_error([] { (void)resolve({":a"}, {}); }),
            "Missing required parameters: :a. SQL requires: :a");
}

TEST(Parameters, UnknownKeysAreIgnored) {
  const std::vector<NamedParam> given{
      {"unused", std::int64_t{9}}, {"a", std::int64_t{1}}, {"", std::int64_t{0}}};
  EXPECT_EQ(resolve({":a"}, given), (std::vector<std::size_t>{1}));
  EXPECT_TRUE(resolve({}, given).empty());
}

TEST(Parameters, AMapCannotBindPositionalParameters) {
  const std::vector<NamedParam> given{{"a", std::int64_t{1}}};
  const std::string expected =
      "Cannot use named parameter map with SQL that has positional parameters (?). Use a list "
      "of arguments instead.";
  EXPECT_EQ(range_error([&] { (void)resolve({":a", ""}, given); }), expected);
  EXPECT_EQ(range_error([&] { (void)resolve({"?1"}, given); }), expected);
}

TEST(Parameters, ValuesOfAStatementComeInItsParameterOrder) {
  auto conn = ecto_libsql::testing::open_local(":memory:");
  Connection::Guard guard(*conn);
  StatementLease stmt = conn->acquire("SELECT $z, :a, @m, :a");
  const std::vector<std::string> names = parameter_names_of(*stmt);
  EXPECT_EQ(names, (std::vector<std::string>{"$z", ":a", "@m"}));
  Params params;
  params.is_named = true;
  params.named = {{"a", std::int64_t{1}}, {"m", std::int64_t{2}}, {"$z", std::int64_t{3}}};
  const std::vector<const ParamValue*> values = parameter_values(names, params);
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0], &params.named[2].value);
  EXPECT_EQ(values[1], &params.named[0].value);
  EXPECT_EQ(values[2], &params.named[1].value);
  StatementLease positional = conn->acquire("SELECT ?, ?3");
  EXPECT_EQ(parameter_names_of(*positional), (std::vector<std::string>{"", "", "?3"}));
}
