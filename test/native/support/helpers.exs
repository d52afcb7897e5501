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

  @doc "Polls `fun` until it answers a truthy value or `timeout` ms pass; answers the value."
  def eventually(fun, timeout \\ 5_000) do
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
end
