Code.require_file("mix/precompiled.exs", __DIR__)
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
      docs: [main: "readme", extras: ["README.md", "CHANGELOG.md" | Path.wildcard("docs/*.md")]],
      # Precompiled NIFs (mix/native_build.exs): one artefact per target on the release.
      ecto_libsql_precompiled_url:
        "#{@source_url}/releases/download/v#{@version}/@{artefact_filename}",
      ecto_libsql_offline: offline?()
    ]
  end

  def application do
    [extra_applications: [:logger, :crypto] ++ provided_apps(), mod: {EctoLibSql.Application, []}]
  end

  # Without Hex packages declared as dependencies, those a build provides otherwise (ERL_LIBS,
  # a release's lib directory) are still this application's: lib/ compiles against them, and
  # they must be started first.
  defp provided_apps do
    if offline?(),
      do: Enum.filter(@hex_packages, &match?(dir when is_list(dir), :code.lib_dir(&1))),
      else: []
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

  # Everything in lib/ is always compiled: the DBConnection driver (EctoLibSql) and the Ecto
  # adapter compile themselves only when DBConnection and Ecto are loadable
  # (`Code.ensure_loaded?/1` in their files), whichever way those arrived (Hex, path
  # dependencies, ERL_LIBS), and the native-driver layer (lib/ecto_libsql) needs neither.
  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]

  defp test_paths do
    cond do
      offline?() -> ["test/native", "test/package"]
      System.get_env("ECTO_LIBSQL_INTEGRATION") in ["1", "true"] -> ["integration_test/libsql"]
      true -> ["test/native", "test/driver", "test/ecto", "test/package"]
    end
  end

  defp aliases do
    [
      "test.native": ["test test/native"]
    ]
  end

  # Everything a build needs (a precompiled NIF or a source build) and the documentation;
  # test/package/package_files_test.exs checks the list against the repository.
  defp package do
    [
      licenses: ["Apache-2.0"],
      links: %{"GitHub" => @source_url, "Changelog" => "#{@source_url}/blob/main/CHANGELOG.md"},
      files: ~w(
        lib mix mix.exs .formatter.exs checksum.exs priv/.gitkeep
        native/CMakeLists.txt native/cmake native/engine native/nif native/package
        README.md CHANGELOG.md LICENSE docs
      )
    ]
  end
end
