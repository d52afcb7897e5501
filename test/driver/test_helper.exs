unless Code.ensure_loaded?(EctoLibSql.TestHelpers),
  do: Code.require_file("../native/support/helpers.exs", __DIR__)

ExUnit.start(exclude: [:slow, :valgrind])
