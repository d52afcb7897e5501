defmodule Mix.Tasks.Compile.EctoLibsqlNative do
  @moduledoc """
  Installs the NIF library into `priv/`: the precompiled NIF for this machine when the package
  lists one, otherwise built from source with CMake.

  Precompiled NIFs follow elixir_make's convention (see mix/precompiled.exs): the artefact for
  this target and NIF version is downloaded from the release (or taken from the download
  cache), checked against the SHA-256 listed in `checksum.exs`, and installed. A checksum
  mismatch stops the build. When no artefact is listed for this machine, or the download
  fails, the NIF is built from source, which needs the prerequisites the README lists.

  Environment:

    * `ECTO_LIBSQL_BUILD=true` - build from source even when a precompiled NIF exists
      (also `config :ecto_libsql, force_build: true`)
    * `ECTO_LIBSQL_PRECOMPILED_URL` - where artefacts are downloaded from: a URL template
      holding `@{artefact_filename}`, or a base URL (default: the GitHub release)
    * `ELIXIR_MAKE_CACHE_DIR` - the download cache (default: elixir_make's user cache)
    * `ECTO_LIBSQL_BUILD_TYPE` - CMake build type of a source build (default `RelWithDebInfo`)
    * `ECTO_LIBSQL_SANITIZE` - sanitizers for a source build, e.g. `address,undefined`
    * `ECTO_LIBSQL_SKIP_NATIVE=1` - do nothing (use the library already in `priv/`)

  A pre-release version (`-dev`) and the two settings above it always build from source.
  """
  use Mix.Task.Compiler

  alias EctoLibSql.Precompiled

  @impl true
  def run(_args) do
    recompile_when_optional_deps_change()

    cond do
      truthy?(System.get_env("ECTO_LIBSQL_SKIP_NATIVE")) -> {:noop, []}
      reason = source_build_reason() -> build(reason)
      true -> install_precompiled()
    end
  end

  # Why this build must come from source, or nil when a precompiled NIF may be used.
  defp source_build_reason do
    config = Mix.Project.config()

    cond do
      truthy?(System.get_env("ECTO_LIBSQL_BUILD")) -> :forced
      Application.get_env(:ecto_libsql, :force_build, false) == true -> :forced
      System.get_env("ECTO_LIBSQL_SANITIZE", "") != "" -> :forced
      System.get_env("ECTO_LIBSQL_BUILD_TYPE", "") != "" -> :forced
      "dev" in Version.parse!(config[:version]).pre -> :forced
      true -> nil
    end
  end

  defp truthy?(value), do: value in ["1", "true", "TRUE", "yes"]

  # EctoLibSql and the Ecto adapter are compiled only when DBConnection and Ecto are loadable
  # (their files test it with Code.ensure_loaded?/1), which Mix does not track: when that
  # changes (the no-Hex build and the full one share _build/<env>; dependencies added through
  # ERL_LIBS), this application's Elixir code is compiled again from scratch, so that no module
  # is missing or left over.
  @optional_modules [DBConnection, Ecto.Type, Ecto.Adapters.SQL]

  defp recompile_when_optional_deps_change do
    # Run on its own (`mix compile.ecto_libsql_native`), the compiler comes before `loadpaths`:
    # without the dependencies' paths every optional module would look missing.
    Mix.Task.run("loadpaths", ["--no-deps-check"])
    manifests = Mix.Project.manifest_path()
    stamp = Path.join(manifests, "ecto_libsql.optional_deps")
    loadable = inspect(for module <- @optional_modules, do: {module, Code.ensure_loaded?(module)})

    case File.read(stamp) do
      {:ok, ^loadable} ->
        :ok

      previous ->
        elixir_manifest = Path.join(manifests, "compile.elixir")

        if match?({:ok, _}, previous) or File.exists?(elixir_manifest) do
          ebin = Mix.Project.compile_path()

          for {:ok, files} <- [File.ls(ebin)],
              file <- files,
              String.ends_with?(file, ".beam"),
              do: File.rm!(Path.join(ebin, file))

          File.rm(elixir_manifest)
        end

        File.mkdir_p!(manifests)
        File.write!(stamp, loadable)
    end
  end

  ## Precompiled

  defp install_precompiled do
    config = Mix.Project.config()
    checksum_file = Path.join(root(), "checksum.exs")

    checksums =
      try do
        Precompiled.read_checksums(checksum_file)
      rescue
        e in ArgumentError -> Mix.raise("ecto_libsql: #{Exception.message(e)}")
      end

    with {:ok, target} <- Precompiled.current_target(),
         {:ok, nif_version} <- Precompiled.nif_version(),
         name = Precompiled.artefact_name(nif_version, target, config[:version]),
         :ok <- listed(name, target, nif_version, checksums),
         :ok <- Precompiled.system_supported(target),
         {:ok, contents} <- artefact(name, config, checksums),
         {:ok, library} <- Precompiled.library_from_artefact(contents) do
      status = install(library)
      if status == :ok, do: Mix.shell().info("ecto_libsql: installed the precompiled NIF #{name}")
      {status, []}
    else
      {:error, {:mismatch, name, url, expected, actual}} ->
        Mix.raise("""
        ecto_libsql: the precompiled NIF #{name} does not match its checksum.
          downloaded from #{url}
          expected #{expected} (checksum.exs)
          got      #{actual}
        It was not installed. The download may be corrupt or tampered with: try again, or \
        build from source with ECTO_LIBSQL_BUILD=true.\
        """)

      {:error, :source_checkout} ->
        build(:source_checkout)

      {:error, message} ->
        build({:fallback, message})
    end
  end

  defp listed(name, target, nif_version, checksums) do
    cond do
      checksums == %{} ->
        {:error, :source_checkout}

      Map.has_key?(checksums, name) ->
        :ok

      true ->
        {:error, "no precompiled NIF for #{target} (NIF #{nif_version}) in this release"}
    end
  end

  # The artefact's verified contents: from the download cache, else downloaded.
  defp artefact(name, config, checksums) do
    cached = Path.join(Precompiled.cache_dir(), name)

    with {:ok, contents} <- File.read(cached),
         :ok <- Precompiled.verify(name, contents, checksums) do
      {:ok, contents}
    else
      _ -> download(name, cached, config, checksums)
    end
  end

  defp download(name, cached, config, checksums) do
    template =
      System.get_env("ECTO_LIBSQL_PRECOMPILED_URL") || config[:ecto_libsql_precompiled_url]

    url = Precompiled.url(template, name)
    Mix.shell().info("ecto_libsql: downloading the precompiled NIF from #{url}")

    case Precompiled.download(url) do
      {:ok, contents} ->
        case Precompiled.verify(name, contents, checksums) do
          :ok ->
            File.rm(cached)
            cache(cached, contents)
            {:ok, contents}

          {:error, {:mismatch, expected, actual}} ->
            {:error, {:mismatch, name, url, expected, actual}}
        end

      {:error, reason} ->
        {:error, "could not download #{url}: #{reason}"}
    end
  end

  # The cache is an optimisation: a read-only or full disk only costs a download next time.
  defp cache(path, contents) do
    tmp = "#{path}.#{System.unique_integer([:positive])}.tmp"

    with :ok <- File.mkdir_p(Path.dirname(path)),
         :ok <- File.write(tmp, contents),
         :ok <- File.rename(tmp, path) do
      :ok
    else
      _ -> File.rm(tmp)
    end
  end

  ## Source build

  defp build(reason) do
    case reason do
      {:fallback, message} ->
        Mix.shell().info("""
        ecto_libsql: #{message}.
        Building the NIF from source instead. #{prerequisites()}\
        """)

      _ ->
        :ok
    end

    root = root()
    source = Path.join(root, "native")
    build_type = System.get_env("ECTO_LIBSQL_BUILD_TYPE", "RelWithDebInfo")
    sanitize = System.get_env("ECTO_LIBSQL_SANITIZE", "")

    suffix =
      if sanitize == "",
        do: build_type,
        else: "#{build_type}-#{String.replace(sanitize, ",", "-")}"

    # One build per build type and sanitizer, shared by every Mix environment and by the C++
    # suite (scripts/test builds its tests in the same directory), so the engine compiles once.
    build_dir = Path.join([root, "_build", "native", suffix])

    erts_include =
      Path.join([:code.root_dir(), "erts-#{:erlang.system_info(:version)}", "include"])

    unless File.exists?(Path.join(build_dir, "CMakeCache.txt")) do
      cmake!(
        [
          "-S",
          source,
          "-B",
          build_dir,
          "-DCMAKE_BUILD_TYPE=#{build_type}",
          "-DECTO_LIBSQL_TESTS=OFF",
          "-DECTO_LIBSQL_NIF=ON",
          "-DECTO_LIBSQL_SANITIZE=#{sanitize}",
          "-DERTS_INCLUDE_DIR=#{erts_include}"
        ],
        "configure"
      )
    end

    cmake!(
      [
        "--build",
        build_dir,
        "--target",
        "ecto_libsql_nif",
        "--parallel",
        "#{System.schedulers_online()}"
      ],
      "build"
    )

    {install(File.read!(Path.join(build_dir, Precompiled.library()))), []}
  end

  defp cmake!(args, step) do
    cmake =
      System.find_executable("cmake") ||
        Mix.raise("ecto_libsql: cmake not found, so the NIF cannot be built. #{prerequisites()}")

    case System.cmd(cmake, args, stderr_to_stdout: true) do
      {output, 0} ->
        if step == "build" and String.contains?(output, "Linking"),
          do: Mix.shell().info("Compiled ecto_libsql native library")

        :ok

      {output, status} ->
        Mix.shell().error(output)

        Mix.raise(
          "ecto_libsql: CMake #{step} failed (exit #{status}); the output above names what is " <>
            "missing. #{prerequisites()}"
        )
    end
  end

  ## Installing

  # Installs the library into priv/ unless it is there already.
  defp install(library) do
    target = Path.join([root(), "priv", Precompiled.library()])
    File.mkdir_p!(Path.dirname(target))

    if File.read(target) == {:ok, library} do
      :noop
    else
      # A new inode, so that a running VM that mapped the old file keeps a valid mapping.
      tmp = target <> ".tmp"
      File.write!(tmp, library)
      File.rename!(tmp, target)
      :ok
    end
  end

  defp root, do: Path.dirname(Mix.Project.project_file())

  @doc false
  # What a source build needs, per platform (the README's table says the same).
  def prerequisites do
    """
    A source build needs CMake >= 3.25, a C++20 compiler (GCC >= 12 or Clang >= 14), \
    pkg-config, and the development files of SQLite, OpenSSL 3, Boost >= 1.81 (headers) and \
    Erlang:
      Debian 12:      apt-get install cmake g++ pkg-config libsqlite3-dev libssl-dev libboost1.81-dev erlang-dev
      Ubuntu 24.04:   apt-get install cmake g++ pkg-config libsqlite3-dev libssl-dev libboost-dev erlang-dev
      Fedora:         dnf install cmake gcc-c++ pkgconf-pkg-config sqlite-devel openssl-devel boost-devel erlang-erts
      Alpine:         apk add cmake g++ make pkgconf sqlite-dev openssl-dev boost-dev linux-headers erlang-dev
      macOS Homebrew: brew install cmake pkgconf sqlite openssl@3 boost (and the Xcode command line tools)
      Arch:           pacman -S cmake gcc pkgconf sqlite openssl boost erlang
    The precompiled NIF needs none of them.\
    """
  end
end
