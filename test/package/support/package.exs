defmodule EctoLibSql.Test.Package do
  @moduledoc false
  # Helpers of the package tests: the package's file list, copies of it, a loopback HTTP server
  # serving artefacts, and Mix runs in a copy.

  @root Path.expand("../../..", __DIR__)

  def root, do: @root

  @doc "The files `mix hex.build` would package: each entry a wildcard, directories whole."
  def files(entries \\ Mix.Project.config()[:package][:files], root \\ @root) do
    entries
    |> Enum.flat_map(&Path.wildcard(Path.join(root, &1)))
    |> Enum.flat_map(&dir_files/1)
    |> Enum.map(&Path.relative_to(&1, root))
    |> Enum.uniq()
    |> Enum.sort()
  end

  defp dir_files(path) do
    case File.lstat(path) do
      {:ok, %File.Stat{type: :directory}} ->
        path |> File.ls!() |> Enum.flat_map(&dir_files(Path.join(path, &1)))

      _ ->
        [path]
    end
  end

  @doc "A fresh directory under the system's temporary directory, removed when the test ends."
  def tmp_dir!(label) do
    dir =
      Path.join(
        System.tmp_dir!(),
        "ecto_libsql_#{label}_#{System.pid()}_#{System.unique_integer([:positive])}"
      )

    File.rm_rf!(dir)
    File.mkdir_p!(dir)
    ExUnit.Callbacks.on_exit(fn -> File.rm_rf(dir) end)
    dir
  end

  @doc "Copies the package's files into `dest`, as Hex would unpack them."
  def copy!(dest) do
    for file <- files() do
      File.mkdir_p!(Path.join(dest, Path.dirname(file)))
      File.cp!(Path.join(@root, file), Path.join(dest, file))
    end

    dest
  end

  @doc "Serves the files of `dir` over HTTP on 127.0.0.1; answers the base URL."
  def serve!(dir) do
    {:ok, _} = Application.ensure_all_started(:inets)

    {:ok, pid} =
      :inets.start(:httpd,
        port: 0,
        server_name: ~c"ecto_libsql_test",
        server_root: String.to_charlist(dir),
        document_root: String.to_charlist(dir),
        bind_address: {127, 0, 0, 1}
      )

    ExUnit.Callbacks.on_exit(fn -> :inets.stop(:httpd, pid) end)
    {:port, port} = List.keyfind(:httpd.info(pid), :port, 0)
    "http://127.0.0.1:#{port}"
  end

  @doc "A loopback port nothing listens on."
  def closed_port do
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    :gen_tcp.close(socket)
    port
  end

  @doc """
  Runs `mix args` in `dir` as a user's machine would: no Hex, no ECTO_LIBSQL_* settings of
  this test run, a `cmake` on PATH that only records that it ran (`dir/cmake-ran`).
  """
  def mix(dir, args, env \\ []) do
    bin = Path.join(dir, "fake-bin")
    File.mkdir_p!(bin)
    cmake = Path.join(bin, "cmake")

    File.write!(cmake, """
    #!/bin/sh
    echo "$@" >> "#{Path.join(dir, "cmake-ran")}"
    echo "fake cmake: no C++ build in this test" >&2
    exit 1
    """)

    File.chmod!(cmake, 0o755)

    cleared =
      for {name, _} <- System.get_env(),
          String.starts_with?(name, "ECTO_LIBSQL_") or String.starts_with?(name, "MIX_") or
            name in ~w(ERL_LIBS HTTP_PROXY http_proxy HTTPS_PROXY https_proxy),
          do: {name, nil}

    base = [
      {"PATH", bin <> ":" <> System.get_env("PATH", "")},
      {"MIX_HOME", Path.join(dir, "mix-home")},
      {"MIX_ARCHIVES", Path.join(dir, "mix-archives")},
      {"HEX_HOME", Path.join(dir, "hex-home")},
      {"ELIXIR_MAKE_CACHE_DIR", Path.join(dir, "cache")},
      {"MIX_ENV", "dev"}
    ]

    env = (cleared ++ base ++ env) |> Map.new() |> Enum.to_list()
    System.cmd("mix", args, cd: dir, env: env, stderr_to_stdout: true)
  end

  @doc "A PATH of links to every program on this PATH except `excluded`."
  def path_without(dir, excluded) do
    bin = Path.join(dir, "bin-without")
    File.mkdir_p!(bin)

    for path_dir <- System.get_env("PATH", "") |> String.split(":", trim: true) |> Enum.uniq(),
        name <-
          (case File.ls(path_dir) do
             {:ok, names} -> names
             _ -> []
           end),
        name not in excluded,
        not File.exists?(Path.join(bin, name)),
        do: File.ln_s(Path.join(path_dir, name), Path.join(bin, name))

    bin
  end

  def cmake_ran?(dir), do: File.exists?(Path.join(dir, "cmake-ran"))
end
