defmodule EctoLibSql.PrecompiledTest do
  # Artefact naming, targets, NIF versions, checksum files, artefact contents and downloads of
  # precompiled NIFs (mix/precompiled.exs). Environment variables are changed: not async.
  use ExUnit.Case, async: false

  alias EctoLibSql.Precompiled
  alias EctoLibSql.Test.Package

  @sum_a "sha256:" <> String.duplicate("a", 64)

  describe "targets" do
    test "are named as cc_precompiler names them" do
      for {arch, target} <- [
            {"x86_64-pc-linux-gnu", "x86_64-linux-gnu"},
            {"aarch64-unknown-linux-gnu", "aarch64-linux-gnu"},
            {"x86_64-alpine-linux-musl", "x86_64-linux-musl"},
            {"aarch64-alpine-linux-musl", "aarch64-linux-musl"},
            {"aarch64-apple-darwin23.4.0", "aarch64-apple-darwin"},
            {"arm64-apple-darwin22", "aarch64-apple-darwin"},
            {"x86_64-apple-darwin21.6.0", "x86_64-apple-darwin"},
            {"riscv64-linux-gnu", "riscv64-linux-gnu"}
          ],
          do: assert(Precompiled.target_from_architecture(arch) == {:ok, target}, arch)
    end

    test "an architecture that is no triplet is an error, not a guess" do
      assert {:error, message} = Precompiled.target_from_architecture("win32")
      assert message =~ "win32"
      assert {:error, _} = Precompiled.target_from_architecture("")
    end

    test "this machine's target comes from the runtime" do
      arch = to_string(:erlang.system_info(:system_architecture))
      assert Precompiled.current_target() == Precompiled.target_from_architecture(arch)
    end

    test "TARGET_ARCH, TARGET_OS and TARGET_ABI override it, all three or none" do
      on_exit(fn -> Enum.each(~w(TARGET_ARCH TARGET_OS TARGET_ABI), &System.delete_env/1) end)

      System.put_env(%{"TARGET_ARCH" => "aarch64", "TARGET_OS" => "linux", "TARGET_ABI" => "musl"})

      assert Precompiled.current_target() == {:ok, "aarch64-linux-musl"}

      System.delete_env("TARGET_ABI")
      assert {:error, message} = Precompiled.current_target()
      assert message =~ "TARGET_ABI"
    end
  end

  describe "NIF versions" do
    test "a runtime loads the artefact of its own NIF version" do
      assert Precompiled.nif_version("2.16", ["2.16"]) == {:ok, "2.16"}
      assert Precompiled.nif_version("2.17", ["2.16", "2.17"]) == {:ok, "2.17"}
    end

    test "a newer minor version falls back to the newest older one of its major version" do
      assert Precompiled.nif_version("2.17", ["2.16"]) == {:ok, "2.16"}
      assert Precompiled.nif_version("2.18", ["2.15", "2.16"]) == {:ok, "2.16"}
    end

    test "an older minor or another major version has no artefact" do
      assert {:error, message} = Precompiled.nif_version("2.15", ["2.16"])
      assert message =~ "2.15"
      assert {:error, _} = Precompiled.nif_version("3.0", ["2.16"])
    end

    test "this runtime has an artefact" do
      assert {:ok, _} = Precompiled.nif_version()
    end
  end

  describe "glibc" do
    test "an older glibc than the artefacts need is refused, naming both versions" do
      assert {:error, message} =
               Precompiled.system_supported("x86_64-linux-gnu", fn -> "2.31" end)

      assert message =~ "glibc 2.31 is older than the #{Precompiled.min_glibc()}"
      assert {:error, _} = Precompiled.system_supported("aarch64-linux-gnu", fn -> "2.33" end)
    end

    test "the same or a newer glibc is fine" do
      assert Precompiled.system_supported("x86_64-linux-gnu", fn -> Precompiled.min_glibc() end) ==
               :ok

      assert Precompiled.system_supported("x86_64-linux-gnu", fn -> "2.40" end) == :ok
      assert Precompiled.system_supported("x86_64-linux-gnu", fn -> "3.0" end) == :ok
    end

    test "musl and macOS targets, and an unknown glibc version, are not checked" do
      assert Precompiled.system_supported("x86_64-linux-musl", fn -> "2.1" end) == :ok
      assert Precompiled.system_supported("aarch64-apple-darwin", fn -> "2.1" end) == :ok
      assert Precompiled.system_supported("x86_64-linux-gnu", fn -> nil end) == :ok
      assert Precompiled.system_supported("x86_64-linux-gnu", fn -> "garbage" end) == :ok
    end

    test "this system is supported (it builds and tests the artefact)" do
      {:ok, target} = Precompiled.current_target()
      assert Precompiled.system_supported(target) == :ok
    end
  end

  test "artefact names follow elixir_make's NIF convention" do
    assert Precompiled.artefact_name("2.16", "x86_64-linux-gnu", "0.10.0") ==
             "ecto_libsql-nif-2.16-x86_64-linux-gnu-0.10.0.tar.gz"

    assert Precompiled.artefact_name("2.16", "aarch64-apple-darwin", "1.0.0-rc.1") ==
             "ecto_libsql-nif-2.16-aarch64-apple-darwin-1.0.0-rc.1.tar.gz"
  end

  test "URLs: a template's @{artefact_filename} is replaced, a base URL gets the name appended" do
    name = "ecto_libsql-nif-2.16-x86_64-linux-gnu-0.10.0.tar.gz"

    assert Precompiled.url("https://h/releases/download/v0.10.0/@{artefact_filename}", name) ==
             "https://h/releases/download/v0.10.0/" <> name

    assert Precompiled.url("http://127.0.0.1:8080", name) == "http://127.0.0.1:8080/" <> name
    assert Precompiled.url("http://127.0.0.1:8080/", name) == "http://127.0.0.1:8080/" <> name
  end

  test "the project's release URL template names the version's release" do
    config = Mix.Project.config()
    url = Precompiled.url(config[:ecto_libsql_precompiled_url], "x.tar.gz")

    assert url =~
             ~r"^https://github\.com/.+/releases/download/v#{Regex.escape(config[:version])}/x\.tar\.gz$"
  end

  describe "checksum files" do
    setup do
      {:ok, dir: Package.tmp_dir!("checksums")}
    end

    test "written and read back, sorted, in elixir_make's format", %{dir: dir} do
      file = Path.join(dir, "checksum.exs")
      sums = %{"b.tar.gz" => "sha256:" <> String.duplicate("b", 64), "a.tar.gz" => @sum_a}
      Precompiled.write_checksums(file, sums)

      assert File.read!(file) =~
               ~r/\A(#[^\n]*\n)+%{\n  "a.tar.gz" => "#{@sum_a}",\n  "b.tar.gz" => "sha256:b{64}",\n}\n\z/

      assert Precompiled.read_checksums(file) == sums
      # The file is Elixir, as elixir_make evaluates it.
      assert {^sums, _} = Code.eval_file(file)
    end

    test "a missing file lists nothing", %{dir: dir} do
      assert Precompiled.read_checksums(Path.join(dir, "none.exs")) == %{}
    end

    test "a malformed file raises instead of being read as empty (nothing is evaluated)",
         %{dir: dir} do
      file = Path.join(dir, "checksum.exs")

      for text <- [
            "not elixir (",
            "[1, 2]",
            ~s|%{"a.tar.gz" => "md5:abc"}|,
            ~s|%{"a.tar.gz" => "sha256:#{String.duplicate("A", 64)}"}|,
            ~s|%{"a.tar.gz" => "sha256:abc"}|,
            ~s|%{"a.tar.gz" => File.rm_rf!("/")}|,
            ~s|%{a: "#{@sum_a}"}|
          ] do
        File.write!(file, text)
        assert_raise ArgumentError, ~r/expected a map/, fn -> Precompiled.read_checksums(file) end
      end
    end

    test "verify: listed and equal, listed and different, not listed" do
      contents = "artefact bytes"
      sum = Precompiled.checksum(contents)
      assert sum =~ ~r/\Asha256:[0-9a-f]{64}\z/
      assert Precompiled.verify("a.tar.gz", contents, %{"a.tar.gz" => sum}) == :ok

      assert Precompiled.verify("a.tar.gz", contents <> "!", %{"a.tar.gz" => sum}) ==
               {:error, {:mismatch, sum, Precompiled.checksum(contents <> "!")}}

      assert Precompiled.verify("b.tar.gz", contents, %{"a.tar.gz" => sum}) ==
               {:error, :not_listed}
    end
  end

  describe "artefact contents" do
    test "the library comes back out of an artefact made from it" do
      library = :crypto.strong_rand_bytes(100_000)

      assert Precompiled.library_from_artefact(Precompiled.artefact_from_library(library)) ==
               {:ok, library}
    end

    test "an artefact holding anything but exactly ecto_libsql_nif.so is refused" do
      dir = Package.tmp_dir!("tar")

      make = fn entries ->
        path = Path.join(dir, "a.tar.gz")
        File.rm(path)
        :ok = :erl_tar.create(String.to_charlist(path), entries, [:compressed])
        File.read!(path)
      end

      assert {:error, message} =
               Precompiled.library_from_artefact(make.([{~c"../ecto_libsql_nif.so", "x"}]))

      assert message =~ "../ecto_libsql_nif.so"

      assert {:error, message} = Precompiled.library_from_artefact(make.([{~c"other.so", "x"}]))
      assert message =~ "other.so"

      two = make.([{~c"ecto_libsql_nif.so", "x"}, {~c"extra", "y"}])
      assert {:error, message} = Precompiled.library_from_artefact(two)
      assert message =~ "2 files"

      assert {:error, message} = Precompiled.library_from_artefact(make.([]))
      assert message =~ "0 files"

      assert {:error, message} = Precompiled.library_from_artefact("not a tar at all")
      assert message =~ "not a gzipped tar"

      assert {:error, _} = Precompiled.library_from_artefact("")
    end
  end

  describe "downloads" do
    setup do
      dir = Package.tmp_dir!("serve")
      File.write!(Path.join(dir, "artefact.tar.gz"), "served bytes")
      {:ok, url: Package.serve!(dir)}
    end

    test "answer the served bytes", %{url: url} do
      assert Precompiled.download(url <> "/artefact.tar.gz") == {:ok, "served bytes"}
    end

    test "a missing file is an error naming the HTTP status", %{url: url} do
      assert {:error, message} = Precompiled.download(url <> "/missing.tar.gz")
      assert message =~ "HTTP 404"
    end

    test "a refused connection is an error" do
      assert {:error, message} =
               Precompiled.download("http://127.0.0.1:#{Package.closed_port()}/a")

      assert message =~ "econnrefused"
    end

    test "an unsupported scheme is an error" do
      assert {:error, message} = Precompiled.download("ftp://example.com/a.tar.gz")
      assert message =~ "ftp"
    end

    test "loopback is reached directly even with a proxy set", %{url: url} do
      on_exit(fn -> System.delete_env("HTTP_PROXY") end)
      System.put_env("HTTP_PROXY", "http://127.0.0.1:#{Package.closed_port()}")
      assert Precompiled.download(url <> "/artefact.tar.gz") == {:ok, "served bytes"}
    end

    test "a proxy that is set is used for other hosts" do
      on_exit(fn -> System.delete_env("HTTP_PROXY") end)
      System.put_env("HTTP_PROXY", "http://127.0.0.1:#{Package.closed_port()}")
      assert {:error, message} = Precompiled.download("http://example.invalid/a.tar.gz")
      assert message =~ "econnrefused"
    end
  end

  describe "mix ecto_libsql.checksum" do
    setup do
      dir = Package.tmp_dir!("task")
      name = "ecto_libsql-nif-2.16-x86_64-linux-gnu-0.10.0.tar.gz"
      artefact = Path.join(dir, name)
      File.write!(artefact, Precompiled.artefact_from_library("library"))
      Mix.shell(Mix.Shell.Process)
      on_exit(fn -> Mix.shell(Mix.Shell.IO) end)
      {:ok, dir: dir, name: name, artefact: artefact, checksums: Path.join(dir, "checksum.exs")}
    end

    test "writes the artefacts' checksums", %{name: name, artefact: artefact, checksums: file} do
      Mix.Tasks.EctoLibsql.Checksum.run(["--file", file, artefact])

      assert Precompiled.read_checksums(file) == %{
               name => Precompiled.checksum(File.read!(artefact))
             }

      assert_received {:mix_shell, :info, ["wrote 1 checksums to " <> ^file]}
    end

    test "--merge keeps the other entries", %{name: name, artefact: artefact, checksums: file} do
      Precompiled.write_checksums(file, %{"other.tar.gz" => @sum_a})
      Mix.Tasks.EctoLibsql.Checksum.run(["--merge", "--file", file, artefact])
      assert Map.keys(Precompiled.read_checksums(file)) == Enum.sort([name, "other.tar.gz"])

      Mix.Tasks.EctoLibsql.Checksum.run(["--file", file, artefact])
      assert Map.keys(Precompiled.read_checksums(file)) == [name]
    end

    test "refuses a file not named like an artefact, or not holding the library",
         %{dir: dir, name: name, checksums: file} do
      odd = Path.join(dir, "nif.tar.gz")
      File.write!(odd, Precompiled.artefact_from_library("library"))

      assert_raise Mix.Error, ~r/not named like/, fn ->
        Mix.Tasks.EctoLibsql.Checksum.run(["--file", file, odd])
      end

      bad = Path.join(dir, String.replace(name, "x86_64", "aarch64"))
      File.write!(bad, "not a tar")

      assert_raise Mix.Error, ~r/not a gzipped tar/, fn ->
        Mix.Tasks.EctoLibsql.Checksum.run(["--file", file, bad])
      end

      refute File.exists?(file)
    end
  end

  describe "compatibility with elixir_make 0.9" do
    # elixir_make's own code accepts our artefacts and checksum file. Its source is one of the
    # local Hex package checkouts (ECTO_LIBSQL_DEPS_PATH), when they are used.
    @tag :elixir_make
    test "elixir_make verifies and unpacks our artefact with our checksum.exs" do
      source = Path.join(System.get_env("ECTO_LIBSQL_DEPS_PATH") || "", "elixir_make")

      if File.dir?(source) do
        unless Code.ensure_loaded?(ElixirMake.Artefact),
          do: Code.compile_file(Path.join(source, "lib/elixir_make/artefact.ex"))

        dir = Package.tmp_dir!("elixir_make")
        name = Precompiled.artefact_name("2.16", "x86_64-linux-gnu", "0.10.0")
        artefact = Precompiled.artefact_from_library("the library")
        File.write!(Path.join(dir, name), artefact)

        Precompiled.write_checksums(Path.join(dir, "checksum.exs"), %{
          name => Precompiled.checksum(artefact)
        })

        priv = Path.join(dir, "priv")
        File.mkdir_p!(priv)

        File.cd!(dir, fn ->
          # Called through apply/3: the module exists only when its source was found.
          artefact_module = ElixirMake.Artefact

          assert apply(artefact_module, :verify_and_decompress, [Path.join(dir, name), priv]) ==
                   :ok

          config = [app: :ecto_libsql, version: "0.10.0", make_precompiler: {:nif, nil}]
          path = apply(artefact_module, :archive_path, [config, "x86_64-linux-gnu", "2.16"])
          assert Path.basename(path) == name
        end)

        assert File.read!(Path.join(priv, "ecto_libsql_nif.so")) == "the library"
      else
        IO.puts("elixir_make compatibility not checked: no elixir_make in ECTO_LIBSQL_DEPS_PATH")
      end
    end
  end

  test "the compiler's prerequisites and README's table name the same packages" do
    readme = File.read!(Path.join(Package.root(), "README.md"))
    message = Mix.Tasks.Compile.EctoLibsqlNative.prerequisites()

    for line <- String.split(message, "\n"),
        [_, platform, command] <- [Regex.run(~r/^\s+([^:]+):\s+(\S+ \S+ .*)$/, line)],
        package <- command |> String.replace(~r/\(.*\)/, "") |> String.split() |> Enum.drop(2) do
      assert readme =~ package, "README's table lacks #{package} (#{platform})"
    end
  end
end
