# The native-driver suite needs no Hex package. When Hex packages are missing, say plainly
# which suites were not run.
if Mix.Project.config()[:ecto_libsql_offline] do
  IO.puts(
    "ecto_libsql: Hex packages unavailable - NOT RUN: DBConnection driver suite (test/driver), " <>
      "Ecto adapter suite (test/ecto), Ecto integration suites. Set ECTO_LIBSQL_DEPS_PATH or install Hex to run them."
  )
end

# Under scripts/sanitized-nif the sanitizer runtime is preloaded into this VM only: servers and
# clients the tests start (tursodb, Node) run as usual.
if System.get_env("ECTO_LIBSQL_SANITIZED_VM") == "1", do: System.delete_env("LD_PRELOAD")

unless Code.ensure_loaded?(EctoLibSql.TestHelpers),
  do: Code.require_file("support/helpers.exs", __DIR__)

ExUnit.start(exclude: [:slow, :valgrind])
