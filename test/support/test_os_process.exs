defmodule EctoLibSql.TestOsProcess do
  @moduledoc false
  # The OS processes the tests start (tursodb, the Node test servers, the TLS proxy): started as
  # ports, they never outlive this VM, even when it is killed (kill -9, a CI timeout) and can
  # clean up nothing. On Linux they are started through `setpriv --pdeathsig KILL`: the kernel
  # kills them when their parent, the VM's erl_child_setup, exits, which it does as soon as the
  # VM is gone. The Node servers also exit when their standard input (the port) closes.
  #
  # kill/1 kills a process only while it still runs what was started (pids are reused: a pid
  # killed twice, once in a test and once in its on_exit, could by then be another process).

  @setpriv System.find_executable("setpriv")

  @type t :: %{port_ref: port(), os_pid: non_neg_integer(), executable: String.t()}

  @doc """
  Starts `executable` with `args` as a port of the calling process (`port_opts` as for
  Port.open/2, without `:args`). Answers %{port_ref:, os_pid:, executable:}.
  """
  @spec start!(String.t(), [String.t()], list()) :: t()
  def start!(executable, args, port_opts) do
    {program, argv} =
      if @setpriv,
        do: {@setpriv, ["--pdeathsig", "KILL", "--", executable | args]},
        else: {executable, args}

    ref = Port.open({:spawn_executable, program}, [{:args, argv} | port_opts])
    {:os_pid, os_pid} = Port.info(ref, :os_pid)
    %{port_ref: ref, os_pid: os_pid, executable: executable}
  end

  @doc "True when the process runs (a process that has exited but is not yet reaped does not)."
  @spec alive?(%{os_pid: non_neg_integer()}) :: boolean()
  def alive?(%{os_pid: os_pid} = process) do
    if File.dir?("/proc/self") do
      # a zombie has an empty command line
      case File.read("/proc/#{os_pid}/cmdline") do
        {:ok, cmdline} -> runs?(cmdline, process)
        {:error, _} -> false
      end
    else
      match?(
        {_, 0},
        System.cmd("kill", ["-0", Integer.to_string(os_pid)], stderr_to_stdout: true)
      )
    end
  end

  # argv[0] is the executable (setpriv execs it with the argv it was given), or setpriv itself
  # for the moment before it does.
  defp runs?(cmdline, %{executable: executable}),
    do: (cmdline |> String.split(<<0>>) |> hd()) in [executable, @setpriv]

  defp runs?(cmdline, _process), do: cmdline != ""

  @doc """
  Kills the process (kill -9) if it still runs, waits until it has gone (its sockets closed: a
  server started next on its port can listen there), and closes its port. Idempotent.
  """
  @spec kill(t()) :: :ok
  def kill(%{os_pid: os_pid, port_ref: ref} = process) do
    if alive?(process) do
      System.cmd("kill", ["-9", Integer.to_string(os_pid)], stderr_to_stdout: true)
      wait_gone(process, System.monotonic_time(:millisecond) + 30_000)
    end

    try do
      Port.close(ref)
    rescue
      ArgumentError -> :ok
    end

    :ok
  end

  defp wait_gone(%{os_pid: os_pid} = process, deadline) do
    cond do
      exited?(process) ->
        :ok

      System.monotonic_time(:millisecond) > deadline ->
        raise "process #{os_pid} was killed but has not exited within 30 s"

      true ->
        Process.sleep(10)
        wait_gone(process, deadline)
    end
  end

  # Exited: reaped, or a zombie with no thread left. A process being killed loses its command
  # line (alive?/1 false) before it closes its files, and its main thread shows as a zombie
  # while its other threads may still hold them: until all are gone, its listening socket can
  # still take a connection, and a server started on its port cannot listen there.
  defp exited?(%{os_pid: os_pid} = process) do
    if File.dir?("/proc/self") do
      case File.read("/proc/#{os_pid}/stat") do
        {:ok, stat} ->
          zombie? = stat |> String.split(") ") |> List.last() |> String.starts_with?(["Z", "X"])
          zombie? and threads(os_pid) <= 1

        {:error, _} ->
          true
      end
    else
      not alive?(process)
    end
  end

  defp threads(os_pid) do
    case File.ls("/proc/#{os_pid}/task") do
      {:ok, tasks} -> length(tasks)
      {:error, _} -> 0
    end
  end

  @doc "A free TCP port on the loopback interface."
  @spec free_port() :: :inet.port_number()
  def free_port do
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    :gen_tcp.close(socket)
    port
  end

  @doc """
  Starts a server on a free loopback port, `start.(port)` answering its process, and waits
  until it listens there; answers `{process, port}`. A free port can be taken by another
  process before the server binds it: the server then exits at start, and another free port is
  tried (three in all). `message` names the server in errors.
  """
  @spec start_on_free_port!((:inet.port_number() -> t()), String.t()) ::
          {t(), :inet.port_number()}
  def start_on_free_port!(start, message, attempts \\ 3) do
    port = free_port()
    process = start.(port)

    try do
      wait_listening!(process, port, "#{message} on port #{port}")
      {process, port}
    rescue
      error ->
        retry? = attempts > 1 and exited?(process)
        kill(process)

        if retry?,
          do: start_on_free_port!(start, message, attempts - 1),
          else: reraise(error, __STACKTRACE__)
    end
  end

  @doc """
  Waits until `process` itself listens on `port` of the loopback interface. Raises `message`,
  with what the process printed, when it exits first (a port still held by another process, a
  server that failed) or does not listen within 30 seconds. On Linux the listening socket must
  be the process's own: a connection that succeeds proves only that something listens.
  """
  @spec wait_listening!(t(), :inet.port_number(), String.t()) :: :ok
  def wait_listening!(process, port, message) do
    deadline = System.monotonic_time(:millisecond) + 30_000
    await_listening(process, port, message, deadline)
  end

  defp await_listening(process, port, message, deadline) do
    cond do
      listens?(process, port) ->
        :ok

      exited?(process) ->
        raise "#{message}: it exited#{output(process)}"

      System.monotonic_time(:millisecond) > deadline ->
        raise "#{message}: not listening after 30 s#{output(process)}"

      true ->
        Process.sleep(25)
        await_listening(process, port, message, deadline)
    end
  end

  @doc """
  Waits until nothing listens on `port` of the loopback interface (a killed server's port,
  before another server starts there); raises after ten seconds.
  """
  @spec wait_port_free!(:inet.port_number()) :: :ok
  def wait_port_free!(port, tries \\ 400)
  def wait_port_free!(port, 0), do: raise("port #{port} is still in use after 10 s")

  def wait_port_free!(port, tries) do
    case :gen_tcp.connect({127, 0, 0, 1}, port, [], 100) do
      {:ok, socket} ->
        :gen_tcp.close(socket)
        Process.sleep(25)
        wait_port_free!(port, tries - 1)

      {:error, _} ->
        :ok
    end
  end

  defp listens?(%{os_pid: os_pid}, port) do
    if File.exists?("/proc/net/tcp") do
      with {:ok, fds} <- File.ls("/proc/#{os_pid}/fd") do
        sockets = MapSet.new(listening_sockets(port), &"socket:[#{&1}]")

        Enum.any?(fds, fn fd ->
          case File.read_link("/proc/#{os_pid}/fd/#{fd}") do
            {:ok, target} -> MapSet.member?(sockets, target)
            {:error, _} -> false
          end
        end)
      else
        {:error, _} -> false
      end
    else
      case :gen_tcp.connect({127, 0, 0, 1}, port, [], 100) do
        {:ok, socket} ->
          :gen_tcp.close(socket)
          true

        {:error, _} ->
          false
      end
    end
  end

  # The inodes of the IPv4 sockets listening on `port` (state 0A in /proc/net/tcp).
  defp listening_sockets(port) do
    suffix = ":" <> String.pad_leading(Integer.to_string(port, 16), 4, "0")

    "/proc/net/tcp"
    |> File.read!()
    |> String.split("\n", trim: true)
    |> Enum.flat_map(fn line ->
      case String.split(line) do
        [_sl, local, _remote, "0A", _, _, _, _, _, inode | _] ->
          if String.ends_with?(local, suffix), do: [inode], else: []

        _ ->
          []
      end
    end)
  end

  # What the process printed, when the caller owns its port (started it).
  defp output(%{port_ref: ref}) do
    case collect_output(ref, []) do
      "" -> ""
      text -> ":\n" <> String.slice(text, -2_000, 2_000)
    end
  end

  defp collect_output(ref, acc) do
    receive do
      {^ref, {:data, {_eol, line}}} -> collect_output(ref, [acc, line, "\n"])
      {^ref, {:data, data}} when is_binary(data) -> collect_output(ref, [acc, data])
    after
      0 -> IO.iodata_to_binary(acc)
    end
  end
end
