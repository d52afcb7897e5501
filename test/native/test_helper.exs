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

# Tests that need a test peer (Node, an npm package in _build/peers, openssl) skip themselves,
# naming it, when it is missing. CI installs every peer, so there a missing one fails the run
# instead of silently skipping tests (ECTO_LIBSQL_REQUIRE_PEERS=1, set by .ci/run).
if System.get_env("ECTO_LIBSQL_REQUIRE_PEERS") == "1" do
  peers = Path.expand("../../_build/peers/node_modules", __DIR__)

  missing =
    Enum.reject(~w(node openssl), &System.find_executable/1) ++
      for package <-
            ~w(libsql ws @libsql/client @libsql/hrana-client @tursodatabase/sync
               @tursodatabase/cli-linux-x64-gnu/tursodb),
          not File.exists?(Path.join(peers, package)),
          do: "#{package} (npm, in #{peers})"

  if missing != [] do
    raise "ECTO_LIBSQL_REQUIRE_PEERS=1 but test peers are missing: #{Enum.join(missing, ", ")}"
  end
end

# a message a slow (sanitized) run delays is still a pass: wait up to 5 s for it
ExUnit.start(exclude: [:slow, :valgrind], assert_receive_timeout: 5_000)
