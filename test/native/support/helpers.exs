defmodule EctoLibSql.TestHelpers do
  @moduledoc false
  # Shared helpers of the native-driver suite (no Hex package needed).

  alias EctoLibSql.{Native, NIF}

  @doc "A fresh database path in a temporary folder, removed (with -wal/-shm) after the test."
  def tmp_db(name \\ "db") do
    dir = Path.join(System.tmp_dir!(), "ecto_libsql_test")
    File.mkdir_p!(dir)
    # The OS pid keeps test VMs running side by side (other checkouts) off each other's files.
    path = Path.join(dir, "#{name}_#{System.pid()}_#{System.unique_integer([:positive])}.db")

    ExUnit.Callbacks.on_exit(fn ->
      for suffix <- ["", "-wal", "-shm", "-journal"], do: File.rm(path <> suffix)
    end)

    path
  end

  @doc "Opens a connection (an in-memory database unless told otherwise); closed after the test."
  def connect!(opts \\ [database: ":memory:"]) do
    {:ok, state} = Native.connect(opts)
    ExUnit.Callbacks.on_exit(fn -> Native.close(state) end)
    state
  end

  @doc "Runs SQL that must succeed and answers its rows."
  def rows!(state, sql, args \\ []) do
    {:ok, %EctoLibSql.Result{rows: rows}} = Native.execute(state, sql, args)
    rows
  end

  @doc "Resource counts after a full garbage collection of every process."
  def resource_counts do
    for pid <- Process.list(), do: :erlang.garbage_collect(pid)
    NIF.resource_counts()
  end

  @doc """
  Calls `interrupt` every 20 ms until `task` ends, and answers the task's result. An interrupt
  that lands before the call it is meant for has begun (or between two statements) is a
  no-op, so a single interrupt after a fixed sleep can be lost on a slow run.
  """
  def interrupt_until_done(task, interrupt, timeout \\ 30_000) do
    case eventually(
           fn ->
             :ok = interrupt.()
             Task.yield(task, 20)
           end,
           timeout
         ) do
      {:ok, result} -> result
      {:exit, reason} -> exit(reason)
      nil -> ExUnit.Assertions.flunk("the task did not end within #{timeout} ms of interrupts")
    end
  end

  @doc "Polls `fun` until it answers a truthy value or `timeout` ms pass; answers the value."
  def eventually(fun, timeout \\ 30_000) do
    deadline = System.monotonic_time(:millisecond) + timeout
    do_eventually(fun, deadline)
  end

  defp do_eventually(fun, deadline) do
    case fun.() do
      value when value not in [nil, false] ->
        value

      other ->
        if System.monotonic_time(:millisecond) > deadline do
          other
        else
          Process.sleep(10)
          do_eventually(fun, deadline)
        end
    end
  end

  @doc "Runs `fun` in a new process and waits for it to finish; answers its result."
  def in_process(fun) do
    task = Task.async(fun)
    Task.await(task, 30_000)
  end

  @doc """
  Runs `fun` with every log message also sent to the calling process, so that `assert_log/2`
  can wait for a line another process logs (a pool's connect attempt) instead of sleeping.
  """
  def forward_logs(fun) do
    id = :"ecto_libsql_log_forwarder_#{System.unique_integer([:positive])}"
    :ok = :logger.add_handler(id, __MODULE__.LogForwarder, %{config: %{pid: self()}})

    try do
      fun.()
    after
      :logger.remove_handler(id)
    end
  end

  @doc "Waits up to `timeout` ms for a forwarded log message (see forward_logs/1) with `text`."
  def assert_log(text, timeout \\ 10_000) do
    eventually(
      fn ->
        receive do
          {:forwarded_log, message} -> String.contains?(message, text) and message
        after
          10 -> false
        end
      end,
      timeout
    ) || ExUnit.Assertions.flunk("no log message with #{inspect(text)} in time")
  end

  defmodule LogForwarder do
    @moduledoc false
    # An Erlang :logger handler sending each message, as text, to the process in its config.

    def log(%{msg: msg}, %{config: %{pid: pid}}), do: send(pid, {:forwarded_log, text(msg)})

    defp text({:string, chardata}), do: IO.chardata_to_string(chardata)
    defp text({:report, report}), do: inspect(report)

    defp text({format, args}),
      do: format |> :io_lib.format(args) |> IO.chardata_to_string()
  end
end
