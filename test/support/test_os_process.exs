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
      wait_gone(process, 200)
    end

    try do
      Port.close(ref)
    rescue
      ArgumentError -> :ok
    end

    :ok
  end

  defp wait_gone(_process, 0), do: :ok

  defp wait_gone(process, tries) do
    unless exited?(process) do
      Process.sleep(10)
      wait_gone(process, tries - 1)
    end
  end

  # Exited: reaped, or a zombie. A process being killed loses its command line (alive?/1 false)
  # before it closes its files: its listening socket can still take a connection then, and a
  # server started on its port cannot listen there yet.
  defp exited?(%{os_pid: os_pid} = process) do
    if File.dir?("/proc/self") do
      case File.read("/proc/#{os_pid}/stat") do
        {:ok, stat} ->
          stat |> String.split(") ") |> List.last() |> String.starts_with?(["Z", "X"])

        {:error, _} ->
          true
      end
    else
      not alive?(process)
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

  @doc "Waits until something listens on `port` of the loopback interface; raises `message` else."
  @spec wait_listening!(:inet.port_number(), String.t(), non_neg_integer()) :: :ok
  def wait_listening!(port, message, tries \\ 200)

  def wait_listening!(_port, message, 0), do: raise(message)

  def wait_listening!(port, message, tries) do
    case :gen_tcp.connect({127, 0, 0, 1}, port, [], 100) do
      {:ok, socket} ->
        :gen_tcp.close(socket)

      {:error, _} ->
        Process.sleep(25)
        wait_listening!(port, message, tries - 1)
    end
  end
end
