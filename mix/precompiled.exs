defmodule EctoLibSql.Precompiled do
  @moduledoc false
  # Precompiled NIF artefacts, following elixir_make's precompiler convention (as exqlite and
  # other NIF packages publish them), so that tools and habits made for those work here too:
  #
  #   * one artefact per target and NIF version, named
  #     `ecto_libsql-nif-<nif version>-<target>-<package version>.tar.gz` (targets as
  #     cc_precompiler names them: x86_64-linux-gnu, aarch64-linux-musl, aarch64-apple-darwin),
  #     a gzipped tar holding `ecto_libsql_nif.so`;
  #   * `checksum.exs` in the package maps each artefact name to `"sha256:<hex>"`;
  #   * downloads are cached in `ELIXIR_MAKE_CACHE_DIR` or elixir_make's user cache directory;
  #   * a NIF built for NIF version 2.16 serves every later 2.x runtime.
  #
  # Used by the ecto_libsql_native compiler (mix/native_build.exs), `mix ecto_libsql.checksum`
  # and scripts/package.

  @app "ecto_libsql"
  @library "ecto_libsql_nif.so"

  # NIF versions artefacts are built for. A NIF built against 2.16 (OTP 25) loads in OTP 26-28
  # (2.17), so one build per target serves them all.
  @nif_versions ["2.16"]

  # The oldest glibc the linux-gnu artefacts load on. scripts/package fails when an artefact
  # uses a newer symbol version; `mix compile` builds from source on an older glibc.
  @min_glibc "2.34"

  @download_timeout 300_000
  @profile :ecto_libsql_precompiled

  @checksum_header """
  # SHA-256 of this version's precompiled NIF artefacts, verified by `mix compile` before it
  # installs one. Written at release time by `mix ecto_libsql.checksum` from the release's
  # artefacts (.github/workflows/precompiled.yml). Empty in a source checkout, which builds
  # the NIF from source.
  """

  @doc "The file name of the NIF inside an artefact and in priv/."
  def library, do: @library

  @doc "NIF versions artefacts are built for."
  def nif_versions, do: @nif_versions

  @doc "The oldest glibc the linux-gnu artefacts load on."
  def min_glibc, do: @min_glibc

  @doc """
  Whether this system can load the artefact of `target`: on glibc targets, the running glibc
  (`getconf GNU_LIBC_VERSION`) must be `min_glibc/0` or later. An unknown version is let
  through: loading then says what is missing.
  """
  def system_supported(target, glibc \\ &running_glibc/0) do
    with true <- String.ends_with?(target, "-linux-gnu"),
         version when is_binary(version) <- glibc.(),
         {:ok, running} <- parse_glibc(version),
         {:ok, needed} <- parse_glibc(@min_glibc),
         true <- running < needed do
      {:error,
       "this system's glibc #{version} is older than the #{@min_glibc} the precompiled NIF needs"}
    else
      _ -> :ok
    end
  end

  defp running_glibc do
    case System.find_executable("getconf") &&
           System.cmd("getconf", ["GNU_LIBC_VERSION"], stderr_to_stdout: true) do
      {"glibc " <> version, 0} -> String.trim(version)
      _ -> nil
    end
  rescue
    _ -> nil
  end

  defp parse_glibc(version) do
    case Regex.run(~r/\A(\d+)\.(\d+)/, version) do
      [_, major, minor] -> {:ok, {String.to_integer(major), String.to_integer(minor)}}
      nil -> :error
    end
  end

  @doc """
  The target triplet of this machine as cc_precompiler names it (`x86_64-linux-gnu`,
  `aarch64-linux-musl`, `aarch64-apple-darwin`), or the one TARGET_ARCH, TARGET_OS and
  TARGET_ABI name.
  """
  def current_target do
    case Enum.map(~w(TARGET_ARCH TARGET_OS TARGET_ABI), &System.get_env/1) do
      [nil, nil, nil] ->
        target_from_architecture(to_string(:erlang.system_info(:system_architecture)))

      [arch, os, abi] when arch != nil and os != nil and abi != nil ->
        {:ok, "#{arch}-#{os}-#{abi}"}

      _ ->
        {:error, "set all of TARGET_ARCH, TARGET_OS and TARGET_ABI, or none"}
    end
  end

  @doc false
  def target_from_architecture(architecture) do
    case String.split(architecture, "-", trim: true) do
      # x86_64-pc-linux-gnu, aarch64-unknown-linux-gnu, x86_64-alpine-linux-musl
      [arch, _vendor, os, abi] ->
        {:ok, "#{normalise_arch(arch)}-#{os}-#{abi}"}

      # aarch64-apple-darwin23.4.0, x86_64-apple-darwin21.6.0
      [arch, "apple", "darwin" <> _] ->
        {:ok, "#{normalise_arch(arch)}-apple-darwin"}

      [arch, os, abi] ->
        {:ok, "#{normalise_arch(arch)}-#{os}-#{abi}"}

      _ ->
        {:error, "cannot tell the target of system architecture #{inspect(architecture)}"}
    end
  end

  # Erlang on Apple silicon may report arm64; artefacts say aarch64, as cc_precompiler does.
  defp normalise_arch("arm64"), do: "aarch64"
  defp normalise_arch(arch), do: arch

  @doc """
  The NIF version whose artefact this runtime loads: its own if artefacts are built for it,
  else the newest older minor version of the same major version.
  """
  def nif_version(
        current \\ to_string(:erlang.system_info(:nif_version)),
        available \\ @nif_versions
      ) do
    {major, minor} = parse_nif_version(current)

    candidates =
      for version <- available,
          {^major, candidate} <- [parse_nif_version(version)],
          candidate <= minor,
          do: {candidate, version}

    case Enum.max(candidates, fn -> nil end) do
      {_, version} ->
        {:ok, version}

      nil ->
        {:error,
         "no precompiled NIF for NIF version #{current} (built: #{Enum.join(available, ", ")})"}
    end
  end

  defp parse_nif_version(version) do
    [major, minor | _] = String.split(version, ".")
    {String.to_integer(major), String.to_integer(minor)}
  end

  @doc "The artefact's file name, as elixir_make names a NIF artefact."
  def artefact_name(nif_version, target, version),
    do: "#{@app}-nif-#{nif_version}-#{target}-#{version}.tar.gz"

  @doc "The download URL: `@{artefact_filename}` in the template replaced, else appended."
  def url(template, name) do
    if String.contains?(template, "@{artefact_filename}"),
      do: String.replace(template, "@{artefact_filename}", name),
      else: String.trim_trailing(template, "/") <> "/" <> name
  end

  @doc "Where downloaded artefacts are kept (shared with elixir_make)."
  def cache_dir do
    opts = if System.get_env("MIX_XDG"), do: %{os: :linux}, else: %{}

    Path.expand(
      System.get_env("ELIXIR_MAKE_CACHE_DIR") ||
        :filename.basedir(:user_cache, "elixir_make", opts)
    )
  end

  ## checksum.exs

  @doc """
  The artefact checksums of a checksum file: a map of artefact name to `"sha256:<hex>"`.
  A missing file is an empty map; a malformed one raises.
  """
  def read_checksums(file) do
    case File.read(file) do
      {:ok, text} ->
        case Code.string_to_quoted(text) do
          {:ok, {:%{}, _, pairs}} ->
            if Enum.all?(pairs, &checksum_pair?/1),
              do: Map.new(pairs),
              else:
                raise(
                  ArgumentError,
                  "#{file}: expected a map of artefact name => \"sha256:<hex>\""
                )

          _ ->
            raise ArgumentError, "#{file}: expected a map of artefact name => \"sha256:<hex>\""
        end

      {:error, :enoent} ->
        %{}

      {:error, reason} ->
        raise ArgumentError, "cannot read #{file}: #{:file.format_error(reason)}"
    end
  end

  defp checksum_pair?({name, "sha256:" <> hex}) when is_binary(name),
    do: byte_size(hex) == 64 and hex =~ ~r/\A[0-9a-f]+\z/

  defp checksum_pair?(_), do: false

  @doc "The checksum entry of some contents: `\"sha256:<hex>\"`."
  def checksum(contents),
    do: "sha256:" <> Base.encode16(:crypto.hash(:sha256, contents), case: :lower)

  @doc "Checks contents against the checksum listed for `name`."
  def verify(name, contents, checksums) do
    case Map.fetch(checksums, name) do
      {:ok, expected} ->
        case checksum(contents) do
          ^expected -> :ok
          actual -> {:error, {:mismatch, expected, actual}}
        end

      :error ->
        {:error, :not_listed}
    end
  end

  @doc "Writes a checksum file for the given artefacts (sorted, one line each)."
  def write_checksums(file, checksums) do
    lines = for {name, sum} <- Enum.sort(checksums), do: ~s(  "#{name}" => "#{sum}",\n)

    File.write!(file, [@checksum_header, "%{\n", lines, "}\n"])
  end

  ## Artefacts

  @doc """
  The NIF library inside an artefact's contents. The artefact must hold exactly that one
  regular file: nothing is written anywhere else.
  """
  def library_from_artefact(contents) do
    case :erl_tar.extract({:binary, contents}, [:compressed, :memory]) do
      {:ok, [{name, library}]} ->
        if to_string(name) in [@library, "./" <> @library],
          do: {:ok, library},
          else: {:error, "the artefact holds #{to_string(name)}, not #{@library}"}

      {:ok, files} ->
        {:error, "the artefact holds #{length(files)} files, not only #{@library}"}

      {:error, reason} ->
        {:error, "the artefact is not a gzipped tar: #{inspect(reason)}"}
    end
  end

  @doc "Makes an artefact (gzipped tar holding the NIF library) from a library's contents."
  def artefact_from_library(library) do
    path =
      Path.join(System.tmp_dir!(), "ecto_libsql_artefact_#{System.unique_integer([:positive])}")

    try do
      :ok =
        :erl_tar.create(String.to_charlist(path), [{String.to_charlist(@library), library}], [
          :compressed
        ])

      File.read!(path)
    after
      File.rm(path)
    end
  end

  ## Download

  @doc """
  Downloads a URL (http or https, HTTP_PROXY / HTTPS_PROXY honoured, https verified against
  HEX_CACERTS_PATH or the system's certificate authorities).
  """
  def download(url) do
    uri = URI.parse(url)

    with :ok <- ensure_started(uri.scheme),
         {:ok, ssl} <- ssl_options(uri.scheme),
         :ok <- start_profile() do
      try do
        set_proxy(uri)

        http_options =
          [timeout: @download_timeout, connect_timeout: 30_000, autoredirect: true] ++ ssl

        request = {String.to_charlist(url), []}

        case :httpc.request(:get, request, http_options, [body_format: :binary], @profile) do
          {:ok, {{_, 200, _}, _headers, body}} -> {:ok, body}
          {:ok, {{_, status, reason}, _headers, _body}} -> {:error, "HTTP #{status} #{reason}"}
          {:error, reason} -> {:error, inspect(reason)}
        end
      after
        :inets.stop(:httpc, @profile)
      end
    end
  end

  # A profile of its own, so that proxy settings never leak into the caller's :httpc.
  defp start_profile do
    case :inets.start(:httpc, profile: @profile) do
      {:ok, _} -> :ok
      {:error, {:already_started, _}} -> :ok
      {:error, reason} -> {:error, "cannot start :httpc: #{inspect(reason)}"}
    end
  end

  defp ensure_started(scheme) when scheme in ["http", "https"] do
    apps = if scheme == "https", do: [:inets, :ssl], else: [:inets]

    Enum.reduce_while(apps, :ok, fn app, :ok ->
      if function_exported?(Mix, :ensure_application!, 1), do: ensure_application(app)

      case Application.ensure_all_started(app) do
        {:ok, _} ->
          {:cont, :ok}

        {:error, reason} ->
          {:halt,
           {:error,
            "cannot start Erlang's #{app} application (#{inspect(reason)}): install it (Debian: erlang-#{app})"}}
      end
    end)
  end

  defp ensure_started(scheme),
    do: {:error, "unsupported URL scheme #{inspect(scheme)} (http or https)"}

  # Elixir >= 1.15 prunes the code path of Mix projects to their applications.
  defp ensure_application(app) do
    apply(Mix, :ensure_application!, [app])
  rescue
    _ -> :ok
  end

  defp ssl_options("https") do
    cacerts =
      cond do
        path = System.get_env("HEX_CACERTS_PATH") ->
          {:ok, [cacertfile: String.to_charlist(path)]}

        certs = system_cacerts() ->
          {:ok, [cacerts: certs]}

        true ->
          {:error, "no trusted certificate authorities found: set HEX_CACERTS_PATH to a PEM file"}
      end

    with {:ok, cacerts} <- cacerts do
      {:ok,
       [
         ssl:
           [
             verify: :verify_peer,
             depth: 4,
             customize_hostname_check: [
               match_fun: :public_key.pkix_verify_hostname_match_fun(:https)
             ]
           ] ++ cacerts
       ]}
    end
  end

  defp ssl_options(_), do: {:ok, []}

  defp system_cacerts do
    :public_key.cacerts_get()
  rescue
    _ -> nil
  end

  defp set_proxy(uri) do
    {key, names} =
      if uri.scheme == "https",
        do: {:https_proxy, ~w(HTTPS_PROXY https_proxy)},
        else: {:proxy, ~w(HTTP_PROXY http_proxy)}

    with proxy when is_binary(proxy) and proxy != "" <- Enum.find_value(names, &System.get_env/1),
         false <- no_proxy?(uri.host),
         %URI{host: host, port: port} when is_binary(host) <- URI.parse(proxy) do
      :ok = :httpc.set_options([{key, {{String.to_charlist(host), port}, []}}], @profile)
    else
      _ -> :ok
    end
  end

  defp no_proxy?(host) do
    loopback = host in ["localhost", "127.0.0.1", "::1", "[::1]"]

    listed =
      (System.get_env("NO_PROXY") || System.get_env("no_proxy") || "")
      |> String.split(",", trim: true)
      |> Enum.map(&String.trim/1)
      |> Enum.any?(fn entry ->
        entry == "*" or host == String.trim_leading(entry, ".") or
          String.ends_with?(host, "." <> String.trim_leading(entry, "."))
      end)

    loopback or listed
  end
end

defmodule Mix.Tasks.EctoLibsql.Checksum do
  @shortdoc "Writes checksum.exs for precompiled ecto_libsql NIF artefacts"
  @moduledoc """
  Writes `checksum.exs` (the checksums the package ships and `mix compile` verifies
  downloaded NIFs against) from artefact files.

      mix ecto_libsql.checksum _build/package/*.tar.gz
      mix ecto_libsql.checksum --merge _build/package/ecto_libsql-nif-2.16-x86_64-linux-gnu-0.10.0.tar.gz

  `--merge` keeps the entries already in the file; without it the file lists only the given
  artefacts. `--file PATH` writes another file than `checksum.exs` in the project root.
  """
  use Mix.Task

  @impl true
  def run(args) do
    {opts, files} = OptionParser.parse!(args, strict: [merge: :boolean, file: :string])
    if files == [], do: Mix.raise("give the artefact files: mix ecto_libsql.checksum FILE...")

    file = opts[:file] || Path.join(Path.dirname(Mix.Project.project_file()), "checksum.exs")
    existing = if opts[:merge], do: EctoLibSql.Precompiled.read_checksums(file), else: %{}

    new =
      Map.new(files, fn path ->
        name = Path.basename(path)

        unless name =~
                 ~r/\Aecto_libsql-nif-\d+\.\d+-[a-z0-9_]+-[a-z0-9_]+-[a-z0-9_]+-.+\.tar\.gz\z/ do
          Mix.raise("#{name} is not named like a precompiled NIF artefact")
        end

        contents = File.read!(path)

        case EctoLibSql.Precompiled.library_from_artefact(contents) do
          {:ok, _} -> {name, EctoLibSql.Precompiled.checksum(contents)}
          {:error, message} -> Mix.raise("#{path}: #{message}")
        end
      end)

    EctoLibSql.Precompiled.write_checksums(file, Map.merge(existing, new))
    Mix.shell().info("wrote #{map_size(Map.merge(existing, new))} checksums to #{file}")
  end
end
