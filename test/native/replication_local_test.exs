defmodule EctoLibSql.Native.ReplicationLocalTest do
  # Replication calls on a local connection: sync is a no-op, the replica-only calls answer a
  # clear error. Replicas themselves are tested with a real server elsewhere.
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Native, State}

  setup do
    %{s: connect!()}
  end

  test "sync/1 and do_sync/2 are no-ops", %{s: s} do
    assert {:ok, "success sync"} = Native.sync(s)
    assert {:ok, "success sync"} = Native.do_sync(s.conn_id, :local)
  end

  test "replica calls answer that local mode does not support them", %{s: s} do
    for {f, what} <- [
          {&Native.get_frame_number_for_replica/1, "replication_index"},
          {&Native.flush_and_get_frame/1, "flush_replicator"},
          {&Native.get_max_write_frame/1, "max_write_replication_index"}
        ] do
      message = "#{what} is not supported in local mode"
      assert {:error, ^message} = f.(s)
      assert {:error, ^message} = f.(s.conn_id)
    end

    assert {:error, "sync_until is not supported in local mode"} = Native.sync_until_frame(s, 1)

    assert {:error, "sync_until is not supported in local mode"} =
             Native.sync_until_frame(s.conn_id, 1)

    assert_raise FunctionClauseError, fn -> Native.sync_until_frame(s, -1) end
    assert {:error, "freeze is not supported in local mode"} = Native.freeze_replica(s)
    assert {:error, :unsupported} = Native.freeze_replica(:not_a_state)
  end

  test "compatibility names", %{s: s} do
    c = s.conn_id

    assert {:error, "replication_index is not supported in local mode"} =
             Native.get_frame_number(c)

    assert {:error, "sync_until is not supported in local mode"} = Native.sync_until(c, 5)

    assert {:error, "flush_replicator is not supported in local mode"} =
             Native.flush_replicator(c)

    assert {:error, "max_write_replication_index is not supported in local mode"} =
             Native.max_write_replication_index(c)

    assert {:error, "freeze is not supported in local mode"} = Native.freeze_database(c)
  end

  test "closed and bad handles", %{s: s} do
    :ok = Native.close(s)
    assert {:error, "Sync error: Connection not found: it is closed"} = Native.sync(s)
    assert_raise ArgumentError, fn -> Native.get_frame_number(make_ref()) end
    assert_raise ArgumentError, fn -> Native.sync(%State{conn_id: :nope}) end
  end
end
