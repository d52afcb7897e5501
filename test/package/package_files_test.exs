defmodule EctoLibSql.PackageFilesTest do
  # What `mix hex.build` would put in the package, computed from mix.exs's `package[:files]` the
  # way Hex expands it (each entry a wildcard, directories taken whole, dotfiles included), and
  # checked against the repository: everything a build needs is in, nothing else is.
  use ExUnit.Case, async: true

  alias EctoLibSql.Test.Package

  @root Path.expand("../..", __DIR__)

  # Tracked files a build never reads, and which must stay out of the package.
  @dev_only ~w(native/tests/ native/bench/ native/fuzz/ test/ integration_test/ bench/ scripts/
               examples/ .ci/ .github/ _build/ deps/)

  setup_all do
    files = Package.files()
    {:ok, files: files, tracked: git_ls_files()}
  end

  defp git_ls_files do
    case System.cmd("git", ["ls-files", "-z"], cd: @root, stderr_to_stdout: true) do
      {out, 0} -> out |> String.split(<<0>>, trim: true) |> MapSet.new()
      {out, status} -> flunk("git ls-files failed (#{status}): #{out}")
    end
  end

  test "every entry of package[:files] names existing files" do
    for entry <- Mix.Project.config()[:package][:files],
        do: assert(Package.files([entry]) != [], "package entry #{entry} matches no file")
  end

  test "every file in the package is tracked by git: no build output, no local leftovers",
       %{files: files, tracked: tracked} do
    untracked = Enum.reject(files, &MapSet.member?(tracked, &1))
    assert untracked == [], "not tracked by git, yet in the package: #{inspect(untracked)}"
  end

  test "nothing only development needs is packaged (tests, test data, benchmarks, scripts)",
       %{files: files} do
    unwanted = Enum.filter(files, fn f -> Enum.any?(@dev_only, &String.starts_with?(f, &1)) end)
    assert unwanted == []

    binaries = Enum.filter(files, &(Path.extname(&1) in ~w(.so .dylib .dll .o .a .db .beam .gz)))
    assert binaries == []
  end

  test "every source a build reads is packaged: CMake files, engine, NIF, mix helpers, lib",
       %{files: files, tracked: tracked} do
    needed =
      Enum.filter(tracked, fn f ->
        (String.starts_with?(f, "native/") and
           not Enum.any?(@dev_only, &String.starts_with?(f, &1))) or
          String.starts_with?(f, "lib/") or String.starts_with?(f, "mix/")
      end)

    assert needed != []
    assert Enum.any?(needed, &String.starts_with?(&1, "native/engine/src/"))
    assert Enum.any?(needed, &String.starts_with?(&1, "native/cmake/"))
    assert needed -- files == []

    for f <- ~w(mix.exs native/CMakeLists.txt checksum.exs priv/.gitkeep .formatter.exs),
        do: assert(f in files, "#{f} is not in the package")
  end

  test "every file mix.exs loads is packaged", %{files: files} do
    required =
      Regex.scan(~r/Code\.require_file\("([^"]+)"/, File.read!(Path.join(@root, "mix.exs")),
        capture: :all_but_first
      )
      |> List.flatten()

    assert "mix/native_build.exs" in required
    assert required -- files == []
  end

  test "the package holds the licence, the changelog, the README and every docs/*.md",
       %{files: files} do
    docs =
      @root |> Path.join("docs/*.md") |> Path.wildcard() |> Enum.map(&Path.relative_to(&1, @root))

    assert docs != []

    for f <- ["LICENSE", "CHANGELOG.md", "README.md" | docs],
        do: assert(f in files, "#{f} is not in the package")

    assert File.read!(Path.join(@root, "LICENSE")) =~
             "Apache License\n                           Version 2.0"

    assert File.read!(Path.join(@root, "CHANGELOG.md")) =~
             "## #{Mix.Project.config()[:version]}"
  end

  test "relative links in the packaged Markdown resolve to packaged files", %{files: files} do
    for doc <- Enum.filter(files, &String.ends_with?(&1, ".md")),
        [_, target] <-
          Regex.scan(~r/\]\(([^)#\s]+)(?:#[^)]*)?\)/, File.read!(Path.join(@root, doc))),
        not String.contains?(target, "://"),
        not String.starts_with?(target, "mailto:") do
      path =
        doc |> Path.dirname() |> Path.join(target) |> Path.expand("/") |> Path.relative_to("/")

      assert path in files, "#{doc} links to #{target}, which is not in the package"
    end
  end

  test "the docs extras exist and are packaged", %{files: files} do
    extras = Mix.Project.config()[:docs][:extras]
    assert "README.md" in extras and "docs/architecture.md" in extras
    assert extras -- files == []
  end

  test "checksum.exs is well formed and lists only artefacts of this version" do
    version = Mix.Project.config()[:version]
    checksums = EctoLibSql.Precompiled.read_checksums(Path.join(@root, "checksum.exs"))

    for {name, _} <- checksums,
        do: assert(name =~ ~r/\Aecto_libsql-nif-\d+\.\d+-.+-#{Regex.escape(version)}\.tar\.gz\z/)
  end

  test "the package is well within Hex's size limits", %{files: files} do
    bytes = files |> Enum.map(&File.stat!(Path.join(@root, &1)).size) |> Enum.sum()
    # Hex refuses packages over 64 MB uncompressed (8 MB compressed); sources compress ~4x.
    assert bytes < 8_000_000, "the package holds #{bytes} bytes"
  end
end
