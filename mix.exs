Code.require_file("mix/native_build.exs", __DIR__)

if System.get_env("ECTO_LIBSQL_DEPS_PATH") not in [nil, ""] and not Code.ensure_loaded?(Hex) do
  Code.require_file("mix/offline_scm.exs", __DIR__)
  Mix.SCM.append(EctoLibSql.OfflineSCM)
end

defmodule EctoLibSql.MixProject do
  use Mix.Project

  @version "0.10.0"
  @source_url "https://github.com/ocean/ecto_libsql"

  # Hex packages are optional at build time. Without them (no Hex, or ECTO_LIBSQL_OFFLINE=1)
  # only the engine and the native-driver layer are built and tested. ECTO_LIBSQL_DEPS_PATH
  # names a folder with one source checkout per package (db_connection, ecto, ecto_sql,
  # decimal, telemetry, jason) to use instead of Hex.
  @hex_packages [:db_connection, :ecto, :ecto_sql, :decimal, :telemetry, :jason]

  def project do
    [
      app: :ecto_libsql,
      version: @version,
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      compilers: [:ecto_libsql_native] ++ Mix.compilers(),
      elixirc_paths: elixirc_paths(Mix.env()),
      test_paths: test_paths(),
      deps: deps(),
      aliases: aliases(),
      description:
        "Ecto adapter for libSQL and Turso: local files, remote servers and embedded replicas",
      package: package(),
      source_url: @source_url,
      docs: [main: "readme", extras: ["README.md", "CHANGELOG.md"]],
      ecto_libsql_offline: offline?()
    ]
  end

  def application do
    [extra_applications: [:logger, :crypto], mod: {EctoLibSql.Application, []}]
  end

  @doc false
  def offline? do
    System.get_env("ECTO_LIBSQL_OFFLINE") in ["1", "true"] or
      (System.get_env("ECTO_LIBSQL_DEPS_PATH") in [nil, ""] and not Code.ensure_loaded?(Hex))
  end

  defp deps do
    cond do
      offline?() ->
        []

      path = System.get_env("ECTO_LIBSQL_DEPS_PATH") ->
        for app <- @hex_packages do
          dir = Path.expand(Atom.to_string(app), path)

          unless File.dir?(dir) do
            Mix.raise("ECTO_LIBSQL_DEPS_PATH=#{path} has no #{app} checkout (expected #{dir})")
          end

          {app, path: dir, override: true}
        end

      true ->
        [
          {:db_connection, "~> 2.5"},
          {:ecto_sql, "~> 3.13"},
          {:ecto, "~> 3.13"},
          {:decimal, "~> 2.0"},
          {:telemetry, "~> 1.0"},
          {:jason, "~> 1.4"}
        ]
    end
  end

  # The native-driver layer needs no Hex package; the DBConnection module and the Ecto adapter do.
  defp elixirc_paths(env) do
    native = ["lib/ecto_libsql"]
    full = ["lib"]

    cond do
      offline?() -> native
      env == :test -> full ++ ["test/support"]
      true -> full
    end
  end

  defp test_paths do
    cond do
      offline?() -> ["test/native"]
      System.get_env("ECTO_LIBSQL_INTEGRATION") in ["1", "true"] -> ["integration_test/libsql"]
      true -> ["test/native", "test/driver", "test/ecto"]
    end
  end

  defp aliases do
    [
      "test.native": ["test test/native"]
    ]
  end

  defp package do
    [
      licenses: ["Apache-2.0"],
      links: %{"GitHub" => @source_url},
      files:
        ~w(lib mix native/CMakeLists.txt native/engine native/nif priv/.gitkeep mix.exs README.md CHANGELOG.md LICENSE)
    ]
  end
end
