unless Code.ensure_loaded?(EctoLibSql.TestHelpers),
  do: Code.require_file("../native/support/helpers.exs", __DIR__)

# a message a slow (sanitized) run delays is still a pass: wait up to 5 s for it
ExUnit.start(exclude: [:slow, :valgrind], assert_receive_timeout: 5_000)
