defmodule Mix.Tasks.Compile.EctoLibsqlNative do
  @moduledoc """
  Builds the C++ engine and NIF with CMake and installs the NIF library into `priv/`.

  Needs `cmake`, a C++20 compiler, and the development packages listed in the README
  (`libsqlite3-dev`, `libssl-dev`, `libboost1.81-dev`, `erlang-dev`). No Hex package is used.

  Environment:

    * `ECTO_LIBSQL_BUILD_TYPE` - CMake build type (default `RelWithDebInfo`)
    * `ECTO_LIBSQL_SANITIZE` - sanitizers for the NIF, e.g. `address,undefined`
    * `ECTO_LIBSQL_SKIP_NATIVE=1` - do not build (use the library already in `priv/`)
  """
  use Mix.Task.Compiler

  @library "ecto_libsql_nif.so"

  @impl true
  def run(_args) do
    if System.get_env("ECTO_LIBSQL_SKIP_NATIVE") in ["1", "true"] do
      {:noop, []}
    else
      build()
    end
  end

  defp build do
    root = File.cwd!()
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

    built = Path.join(build_dir, @library)
    target = Path.join([root, "priv", @library])
    File.mkdir_p!(Path.dirname(target))

    if File.exists?(target) and File.read!(target) == File.read!(built) do
      {:noop, []}
    else
      # Copy to a new inode so a running VM that mapped the old file keeps a valid mapping.
      tmp = target <> ".tmp"
      File.cp!(built, tmp)
      File.rename!(tmp, target)
      {:ok, []}
    end
  end

  defp cmake!(args, step) do
    cmake =
      System.find_executable("cmake") ||
        Mix.raise("cmake not found: install it (apt-get install cmake)")

    case System.cmd(cmake, args, stderr_to_stdout: true) do
      {output, 0} ->
        if step == "build" and String.contains?(output, "Linking"),
          do: Mix.shell().info("Compiled ecto_libsql native library")

        :ok

      {output, status} ->
        Mix.shell().error(output)
        Mix.raise("ecto_libsql: CMake #{step} failed (exit #{status})")
    end
  end
end
