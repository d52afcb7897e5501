defmodule EctoLibSql.PackageBuildTest do
  # Builds of a copy of the package, run as `mix` in a user's checkout would run them: no Hex,
  # none of this run's ECTO_LIBSQL_* settings, artefacts served from a loopback HTTP server, and
  # a `cmake` that only records that it ran (a source build is never attempted for real here).
  # The artefacts hold this checkout's NIF (priv/ecto_libsql_nif.so, built by `mix test`).
  use ExUnit.Case, async: true

  alias EctoLibSql.Precompiled
  alias EctoLibSql.Test.Package

  @moduletag timeout: 600_000

  # Under scripts/sanitized-nif priv/ holds a NIF that loads only with the sanitizer runtime
  # preloaded, which the Mix runs here do not have.
  if System.get_env("ECTO_LIBSQL_SANITIZED_VM") == "1",
    do: @moduletag(skip: "the sanitized NIF loads only in the sanitized VM")

  @hex_packages ~w(db_connection ecto ecto_sql decimal telemetry jason)

  setup_all do
    library = File.read!(Path.join([Package.root(), "priv", Precompiled.library()]))
    {:ok, target} = Precompiled.current_target()
    {:ok, nif_version} = Precompiled.nif_version()
    name = Precompiled.artefact_name(nif_version, target, Mix.Project.config()[:version])
    artefact = Precompiled.artefact_from_library(library)
    {:ok, library: library, name: name, artefact: artefact, target: target}
  end

  # A copy of the package whose checksum.exs lists `checksums`, and a server for `served`.
  defp package(label, checksums, served) do
    dir = Package.copy!(Package.tmp_dir!(label))
    Precompiled.write_checksums(Path.join(dir, "checksum.exs"), checksums)
    www = Path.join(dir, "www")
    File.mkdir_p!(www)
    for {name, bytes} <- served, do: File.write!(Path.join(www, name), bytes)
    {dir, Package.serve!(www)}
  end

  defp installed(dir), do: Path.join([dir, "priv", Precompiled.library()])

  describe "a precompiled NIF" do
    test "is downloaded, verified and installed: no C++ build, the NIF loads and answers",
         %{name: name, artefact: artefact, library: library} do
      {dir, url} =
        package("precompiled", %{name => Precompiled.checksum(artefact)}, %{name => artefact})

      script = """
      {:ok, state} = EctoLibSql.Native.connect(database: ":memory:")
      {:ok, result} = EctoLibSql.Native.execute(state, "SELECT 1000 + 2", [])
      IO.puts("answer: \#{inspect(result.rows)}")
      """

      {out, status} =
        Package.mix(dir, ["run", "-e", script], [{"ECTO_LIBSQL_PRECOMPILED_URL", url}])

      assert status == 0, out
      assert out =~ "downloading the precompiled NIF from #{url}/#{name}"
      assert out =~ "installed the precompiled NIF #{name}"
      assert out =~ "answer: [[1002]]"
      refute Package.cmake_ran?(dir)
      assert File.read!(installed(dir)) == library
      # Cached where elixir_make caches its artefacts.
      assert File.read!(Path.join([dir, "cache", name])) == artefact

      # A second compile neither downloads nor installs again.
      {out, 0} = Package.mix(dir, ["compile"], [{"ECTO_LIBSQL_PRECOMPILED_URL", url}])
      refute out =~ "downloading"
      refute out =~ "installed"
    end

    test "comes from the download cache when the server is unreachable",
         %{name: name, artefact: artefact, library: library} do
      {dir, _url} = package("cached", %{name => Precompiled.checksum(artefact)}, %{})
      File.mkdir_p!(Path.join(dir, "cache"))
      File.write!(Path.join([dir, "cache", name]), artefact)
      url = "http://127.0.0.1:#{Package.closed_port()}"

      {out, status} = Package.mix(dir, ["compile"], [{"ECTO_LIBSQL_PRECOMPILED_URL", url}])
      assert status == 0, out
      assert out =~ "installed the precompiled NIF #{name}"
      refute out =~ "downloading"
      refute Package.cmake_ran?(dir)
      assert File.read!(installed(dir)) == library
    end

    test "that is corrupt stops the build, naming both checksums; nothing is installed or cached",
         %{name: name, artefact: artefact} do
      corrupt = binary_part(artefact, 0, byte_size(artefact) - 10) <> :binary.copy(<<0>>, 10)
      sum = Precompiled.checksum(artefact)
      {dir, url} = package("corrupt", %{name => sum}, %{name => corrupt})

      {out, status} = Package.mix(dir, ["compile"], [{"ECTO_LIBSQL_PRECOMPILED_URL", url}])
      assert status != 0
      assert out =~ "the precompiled NIF #{name} does not match its checksum"
      assert out =~ "expected #{sum} (checksum.exs)"
      assert out =~ "got      #{Precompiled.checksum(corrupt)}"
      assert out =~ "ECTO_LIBSQL_BUILD=true"
      refute File.exists?(installed(dir))
      refute File.exists?(Path.join([dir, "cache", name]))
      refute Package.cmake_ran?(dir)
    end

    test "a corrupt cached copy is replaced by a good download",
         %{name: name, artefact: artefact, library: library} do
      {dir, url} =
        package("recache", %{name => Precompiled.checksum(artefact)}, %{name => artefact})

      File.mkdir_p!(Path.join(dir, "cache"))
      File.write!(Path.join([dir, "cache", name]), "truncated")

      {out, 0} = Package.mix(dir, ["compile"], [{"ECTO_LIBSQL_PRECOMPILED_URL", url}])
      assert out =~ "downloading"
      assert File.read!(installed(dir)) == library
      assert File.read!(Path.join([dir, "cache", name])) == artefact
    end
  end

  describe "a source build" do
    test "follows when this target has no artefact, with a message naming the prerequisites",
         %{artefact: artefact, target: target} do
      other =
        Precompiled.artefact_name("2.16", "sparc64-linux-gnu", Mix.Project.config()[:version])

      {dir, url} = package("unlisted", %{other => Precompiled.checksum(artefact)}, %{})

      {out, status} = Package.mix(dir, ["compile"], [{"ECTO_LIBSQL_PRECOMPILED_URL", url}])
      assert status != 0
      assert out =~ "no precompiled NIF for #{target}"
      assert out =~ "Building the NIF from source instead"
      assert out =~ "Debian 12:"
      assert out =~ "libsqlite3-dev"
      assert out =~ "macOS Homebrew:"
      assert out =~ "The precompiled NIF needs none of them"
      refute out =~ "downloading"
      assert File.read!(Path.join(dir, "cmake-ran")) =~ "-S #{dir}/native"
    end

    test "follows when the download fails, saying why", %{name: name, artefact: artefact} do
      {dir, _url} = package("offline", %{name => Precompiled.checksum(artefact)}, %{})
      url = "http://127.0.0.1:#{Package.closed_port()}"

      {out, status} = Package.mix(dir, ["compile"], [{"ECTO_LIBSQL_PRECOMPILED_URL", url}])
      assert status != 0
      assert out =~ "could not download #{url}/#{name}"
      assert out =~ "econnrefused"
      assert out =~ "Building the NIF from source instead"
      assert Package.cmake_ran?(dir)
    end

    test "follows a 404 the same way", %{name: name, artefact: artefact} do
      {dir, url} = package("missing", %{name => Precompiled.checksum(artefact)}, %{})
      {out, status} = Package.mix(dir, ["compile"], [{"ECTO_LIBSQL_PRECOMPILED_URL", url}])
      assert status != 0
      assert out =~ "HTTP 404"
      assert Package.cmake_ran?(dir)
    end

    test "is forced by ECTO_LIBSQL_BUILD=true, without a download", %{
      name: name,
      artefact: artefact
    } do
      {dir, url} =
        package("forced", %{name => Precompiled.checksum(artefact)}, %{name => artefact})

      {out, status} =
        Package.mix(dir, ["compile"], [
          {"ECTO_LIBSQL_PRECOMPILED_URL", url},
          {"ECTO_LIBSQL_BUILD", "true"}
        ])

      assert status != 0
      refute out =~ "downloading"
      refute out =~ "Building the NIF from source instead"
      assert out =~ "CMake configure failed"
      assert Package.cmake_ran?(dir)
    end

    test "is forced by `config :ecto_libsql, force_build: true`", %{
      name: name,
      artefact: artefact
    } do
      {dir, url} =
        package("config", %{name => Precompiled.checksum(artefact)}, %{name => artefact})

      File.mkdir_p!(Path.join(dir, "config"))

      File.write!(
        Path.join(dir, "config/config.exs"),
        "import Config\nconfig :ecto_libsql, force_build: true\n"
      )

      {out, status} = Package.mix(dir, ["compile"], [{"ECTO_LIBSQL_PRECOMPILED_URL", url}])
      assert status != 0
      refute out =~ "downloading"
      assert Package.cmake_ran?(dir)
    end

    test "a malformed checksum.exs stops the build, naming the file", %{
      name: name,
      artefact: artefact
    } do
      {dir, url} = package("malformed", %{}, %{name => artefact})
      File.write!(Path.join(dir, "checksum.exs"), ~s|%{"#{name}" => "md5:0"}|)
      {out, status} = Package.mix(dir, ["compile"], [{"ECTO_LIBSQL_PRECOMPILED_URL", url}])
      assert status != 0
      assert out =~ "ecto_libsql: #{dir}/checksum.exs: expected a map of artefact name"
      refute out =~ "downloading"
      refute Package.cmake_ran?(dir)
    end

    test "is what a source checkout (checksum.exs empty) does, quietly" do
      {dir, url} = package("checkout", %{}, %{})
      {out, status} = Package.mix(dir, ["compile"], [{"ECTO_LIBSQL_PRECOMPILED_URL", url}])
      assert status != 0
      refute out =~ "downloading"
      refute out =~ "Building the NIF from source instead"
      assert Package.cmake_ran?(dir)
    end

    test "without cmake names the prerequisites", %{artefact: artefact} do
      other =
        Precompiled.artefact_name("2.16", "sparc64-linux-gnu", Mix.Project.config()[:version])

      {dir, url} = package("nocmake", %{other => Precompiled.checksum(artefact)}, %{})
      path = Package.path_without(dir, ["cmake"])

      {out, status} =
        Package.mix(dir, ["compile"], [{"ECTO_LIBSQL_PRECOMPILED_URL", url}, {"PATH", path}])

      assert status != 0
      assert out =~ "cmake not found, so the NIF cannot be built"
      assert out =~ "Fedora:"
    end
  end

  describe "the DBConnection driver and the Ecto adapter" do
    # Compiled whenever DBConnection and Ecto are loadable, not only with Hex: here they come
    # from ERL_LIBS (as in builds that provide dependencies without Hex) and Hex is absent.
    test "are compiled when the dependencies are present without Hex",
         %{name: name, artefact: artefact} do
      build = Mix.Project.build_path()
      libs = Enum.map(@hex_packages, &Path.join([build, "lib", &1]))

      if Enum.all?(libs, &File.dir?(Path.join(&1, "ebin"))) do
        {dir, url} =
          package("erl_libs", %{name => Precompiled.checksum(artefact)}, %{name => artefact})

        erl_libs = Path.join(dir, "erl_libs")
        File.mkdir_p!(erl_libs)
        for lib <- libs, do: File.ln_s!(lib, Path.join(erl_libs, Path.basename(lib)))

        script = """
        IO.puts("hex loaded: \#{Code.ensure_loaded?(Hex)}")
        IO.puts("adapter: \#{Code.ensure_loaded?(Ecto.Adapters.LibSql)}")
        IO.puts("driver: \#{function_exported?(EctoLibSql, :handle_execute, 4)}")
        {:ok, pid} = DBConnection.start_link(EctoLibSql, database: ":memory:")
        {:ok, _, result} = DBConnection.execute(pid, %EctoLibSql.Query{statement: "SELECT 1000 * 7"}, [])
        IO.puts("answer: \#{inspect(result.rows)}")
        """

        {out, status} =
          Package.mix(dir, ["run", "-e", script], [
            {"ECTO_LIBSQL_PRECOMPILED_URL", url},
            {"ERL_LIBS", erl_libs}
          ])

        assert status == 0, out
        assert out =~ "hex loaded: false"
        refute out =~ "does not depend on"
        assert out =~ "adapter: true"
        assert out =~ "driver: true"
        assert out =~ "answer: [[7000]]"
      else
        IO.puts(
          "driver/adapter build without Hex not checked: the Hex packages are not compiled in this run"
        )
      end
    end

    test "follow the dependencies when they come and go in the same build directory",
         %{name: name, artefact: artefact} do
      build = Mix.Project.build_path()
      libs = Enum.map(@hex_packages, &Path.join([build, "lib", &1]))

      if Enum.all?(libs, &File.dir?(Path.join(&1, "ebin"))) do
        {dir, url} =
          package("deps_change", %{name => Precompiled.checksum(artefact)}, %{name => artefact})

        erl_libs = Path.join(dir, "erl_libs")
        File.mkdir_p!(erl_libs)
        for lib <- libs, do: File.ln_s!(lib, Path.join(erl_libs, Path.basename(lib)))
        ebin = Path.join(dir, "_build/dev/lib/ecto_libsql/ebin")
        url_env = {"ECTO_LIBSQL_PRECOMPILED_URL", url}

        {out, 0} = Package.mix(dir, ["compile"], [url_env])
        refute File.exists?(Path.join(ebin, "Elixir.EctoLibSql.beam")), out

        {out, 0} = Package.mix(dir, ["compile"], [url_env, {"ERL_LIBS", erl_libs}])
        assert File.exists?(Path.join(ebin, "Elixir.EctoLibSql.beam")), out
        assert File.exists?(Path.join(ebin, "Elixir.Ecto.Adapters.LibSql.beam"))

        {out, 0} = Package.mix(dir, ["compile"], [url_env, {"ERL_LIBS", erl_libs}])
        refute out =~ "Compiling", "compiled again with nothing changed: #{out}"

        {out, 0} = Package.mix(dir, ["compile"], [url_env])
        refute File.exists?(Path.join(ebin, "Elixir.EctoLibSql.beam")), out
        refute File.exists?(Path.join(ebin, "Elixir.Ecto.Adapters.LibSql.beam"))
        assert File.exists?(Path.join(ebin, "Elixir.EctoLibSql.Native.beam"))
      else
        IO.puts(
          "driver/adapter rebuild not checked: the Hex packages are not compiled in this run"
        )
      end
    end

    test "are left out when the dependencies are absent; the native layer still builds and works",
         %{name: name, artefact: artefact} do
      {dir, url} =
        package("no_deps", %{name => Precompiled.checksum(artefact)}, %{name => artefact})

      script = """
      IO.puts("adapter: \#{Code.ensure_loaded?(Ecto.Adapters.LibSql)}")
      IO.puts("driver: \#{Code.ensure_loaded?(EctoLibSql)}")
      {:ok, state} = EctoLibSql.Native.connect(database: ":memory:")
      {:ok, result} = EctoLibSql.Native.execute(state, "SELECT 'native'", [])
      IO.puts("answer: \#{inspect(result.rows)}")
      """

      {out, status} =
        Package.mix(dir, ["run", "-e", script], [{"ECTO_LIBSQL_PRECOMPILED_URL", url}])

      assert status == 0, out
      assert out =~ "adapter: false"
      assert out =~ "driver: false"
      assert out =~ ~s(answer: [["native"]])
    end
  end
end
