for file <- ~w(tursodb_server.exs libsql_sync_server.exs tls_proxy.exs),
    do: Code.require_file("../support/#{file}", __DIR__)

defmodule EctoLibSql.TestServersTest do
  # The servers the suite starts (tursodb, the Hrana and libSQL sync test servers, the TLS
  # proxy) die with the test VM, also when it is killed and runs no on_exit: a VM started here
  # runs a test that starts one of each and waits; it is killed with SIGKILL, and every OS
  # process it had started must be gone moments later.
  use ExUnit.Case, async: true

  alias EctoLibSql.{HranaServer, LibsqlSyncServer, TestOsProcess, TlsProxy, TursodbServer}

  @root Path.expand("../..", __DIR__)

  cond do
    System.find_executable("elixir") == nil ->
      @moduletag skip: "elixir not found on PATH"

    reason = TursodbServer.missing() || HranaServer.missing() || TlsProxy.missing() ->
      @moduletag skip: reason

    not File.dir?("/proc/self") ->
      @moduletag skip: "reads /proc to find the processes of the VM it kills"

    true ->
      :ok
  end

  # The test the other VM runs: one of each server, then "ready <its OS pid>".
  @child ~S"""
  for file <- ~w(tursodb_server.exs libsql_sync_server.exs tls_proxy.exs),
      do: Code.require_file(Path.join("test/support", file))

  ExUnit.start(autorun: false)

  defmodule ServersThenWait do
    use ExUnit.Case

    test "start the servers and wait" do
      tursodb = EctoLibSql.TursodbServer.start!()
      EctoLibSql.HranaServer.start!()
      EctoLibSql.LibsqlSyncServer.start!(token: "t")
      dir = tursodb.dir
      {cert, key} = EctoLibSql.TlsProxy.certificate!(dir)
      EctoLibSql.TlsProxy.start!(cert, key, tursodb.port)
      IO.puts("ready #{System.pid()}")
      Process.sleep(:infinity)
    end
  end

  ExUnit.run()
  """

  test "killing the test VM kills every server it started" do
    vm =
      Port.open({:spawn_executable, System.find_executable("elixir")}, [
        :binary,
        :exit_status,
        {:line, 4096},
        args: ["-e", @child],
        cd: @root
      ])

    vm_pid = await_ready(vm)
    servers = descendants(vm_pid)

    try do
      # tursodb, the two Node test servers and the TLS proxy
      assert length(servers) >= 4, "found #{inspect(servers)}"
      assert Enum.all?(servers, &running?/1)
      System.cmd("kill", ["-9", vm_pid], stderr_to_stdout: true)
      assert_receive {^vm, {:exit_status, _}}, 10_000
      survivors = wait_gone(servers, 100)
      assert survivors == [], "still running after the VM died: #{inspect(survivors)}"
    after
      # never leave one behind, whatever failed above
      for pid <- servers, running?(pid), do: System.cmd("kill", ["-9", pid])
    end
  end

  # A server is ready when it listens itself: a connection to its port proves nothing when
  # another process (a killed predecessor not yet gone) still listens there.
  test "a server whose port another process holds is not taken for started" do
    {:ok, listener} = :gen_tcp.listen(0, ip: {127, 0, 0, 1}, active: false)
    {:ok, port} = :inet.port(listener)

    dir =
      Path.join(
        System.tmp_dir!(),
        "ecto_libsql_held_#{System.pid()}_#{System.unique_integer([:positive])}"
      )

    File.mkdir_p!(dir)

    try do
      process =
        TestOsProcess.start!(
          TursodbServer.binary(),
          [Path.join(dir, "x.db"), "--sync-server", "127.0.0.1:#{port}"],
          [:binary, :exit_status, :stderr_to_stdout]
        )

      error =
        assert_raise RuntimeError, fn ->
          TestOsProcess.wait_listening!(process, port, "tursodb did not start")
        end

      assert error.message =~ "tursodb did not start: it exited"
      # what it printed comes with the message
      assert error.message =~ "in use"
      TestOsProcess.kill(process)
    after
      :gen_tcp.close(listener)
      File.rm_rf(dir)
    end
  end

  test "a killed server's port is free when kill/1 returns, and a server starts on it again" do
    tursodb = TursodbServer.start!()
    sync = LibsqlSyncServer.start!()
    on_exit(fn -> Enum.each([tursodb, sync], &TestOsProcess.kill/1) end)
    TursodbServer.exec!(tursodb, "CREATE TABLE t(x)")

    {tursodb, sync} =
      Enum.reduce(1..5, {tursodb, sync}, fn _, {tursodb, sync} ->
        TursodbServer.kill(tursodb)
        LibsqlSyncServer.kill(sync)
        for s <- [tursodb, sync], do: assert({:error, :econnrefused} = connect(s.port))
        tursodb = TursodbServer.start!(port: tursodb.port, database: tursodb.database)
        sync = LibsqlSyncServer.start_again!(sync)
        on_exit(fn -> Enum.each([tursodb, sync], &TestOsProcess.kill/1) end)
        TursodbServer.exec!(tursodb, "INSERT INTO t VALUES (1)")
        assert LibsqlSyncServer.stats(sync)["generation"] >= 1
        {tursodb, sync}
      end)

    # the same database throughout
    assert TursodbServer.pipeline!(tursodb, ["SELECT count(*) FROM t"]) =~ ~s("value":"5")

    on_exit(fn ->
      File.rm_rf(tursodb.database |> Path.dirname()) && LibsqlSyncServer.stop(sync)
    end)
  end

  test "wait_port_free!/1 waits until the listener has gone" do
    {:ok, listener} = :gen_tcp.listen(0, ip: {127, 0, 0, 1}, active: false)
    {:ok, port} = :inet.port(listener)
    owner = self()

    closer =
      spawn(fn ->
        receive do: (:close -> :gen_tcp.close(listener) && send(owner, :closed))
      end)

    :ok = :gen_tcp.controlling_process(listener, closer)
    task = Task.async(fn -> TestOsProcess.wait_port_free!(port) end)
    refute Task.yield(task, 200)
    send(closer, :close)
    assert_receive :closed
    assert :ok = Task.await(task)
  end

  # The race start_on_free_port!/3 covers: another process takes the free port before the
  # server binds it. Here a listener takes the port inside the start function itself.
  describe "start_on_free_port!/3" do
    test "tries another port when the server exits because its port was taken" do
      dir = tmp_dir()

      # the first port is taken before tursodb binds it
      start = fn port ->
        if Process.get(:taken) == nil, do: take(port)
        tursodb(dir, port)
      end

      {process, port} = TestOsProcess.start_on_free_port!(start, "tursodb did not start")
      on_exit(fn -> TestOsProcess.kill(process) end)
      assert [^process, first] = Process.get(:started)
      refute TestOsProcess.alive?(first)
      assert [taken] = Process.get(:taken)
      assert port != taken
      assert TursodbServer.pipeline!(%{url: "http://127.0.0.1:#{port}"}, ["SELECT 1"]) =~ "1"
    end

    test "gives up after three servers that exited, and none is left running" do
      dir = tmp_dir()

      start = fn port ->
        take(port)
        tursodb(dir, port)
      end

      error =
        assert_raise RuntimeError, fn ->
          TestOsProcess.start_on_free_port!(start, "tursodb did not start")
        end

      assert error.message =~ "tursodb did not start on port"
      assert error.message =~ "it exited"
      assert length(Process.get(:started)) == 3
      refute Enum.any?(Process.get(:started), &TestOsProcess.alive?/1)
    end
  end

  defp tmp_dir do
    dir =
      Path.join(
        System.tmp_dir!(),
        "ecto_libsql_free_port_#{System.pid()}_#{System.unique_integer([:positive])}"
      )

    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf(dir) end)
    dir
  end

  # Listens on `port` until the test ends (the socket closes with the test process), as another
  # process would.
  defp take(port) do
    {:ok, _listener} = :gen_tcp.listen(port, ip: {127, 0, 0, 1}, active: false)
    Process.put(:taken, [port | Process.get(:taken, [])])
  end

  # Starts tursodb on `port`, noting it (newest first) under :started.
  defp tursodb(dir, port) do
    process =
      TestOsProcess.start!(
        TursodbServer.binary(),
        [Path.join(dir, "x.db"), "--sync-server", "127.0.0.1:#{port}"],
        [:binary, :exit_status, :stderr_to_stdout]
      )

    Process.put(:started, [process | Process.get(:started, [])])
    process
  end

  defp connect(port) do
    with {:ok, socket} <- :gen_tcp.connect({127, 0, 0, 1}, port, [], 1_000),
         do: {:ok, :gen_tcp.close(socket)}
  end

  defp await_ready(vm) do
    receive do
      {^vm, {:data, {:eol, "ready " <> pid}}} -> pid
      {^vm, {:data, _}} -> await_ready(vm)
      {^vm, {:exit_status, status}} -> flunk("the test VM exited with #{status}")
    after
      60_000 -> flunk("the test VM did not start its servers")
    end
  end

  # Every process below `pid` (the VM's erl_child_setup, then the servers it forked).
  defp descendants(pid) do
    {out, _} = System.cmd("ps", ["-o", "pid=", "--ppid", pid])
    children = out |> String.split() |> Enum.reject(&(&1 == ""))
    children ++ Enum.flat_map(children, &descendants/1)
  end

  # Running: not gone, and not a zombie (a killed process whose parent is gone may wait to be
  # reaped by an init that does not).
  defp running?(pid) do
    case File.read("/proc/#{pid}/stat") do
      {:ok, stat} -> not (stat |> String.split(") ") |> List.last() |> String.starts_with?("Z"))
      {:error, _} -> false
    end
  end

  defp wait_gone(pids, 0), do: Enum.filter(pids, &running?/1)

  defp wait_gone(pids, tries) do
    case Enum.filter(pids, &running?/1) do
      [] ->
        []

      _running ->
        Process.sleep(100)
        wait_gone(pids, tries - 1)
    end
  end
end
