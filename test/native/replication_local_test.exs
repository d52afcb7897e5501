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
          {&Native.flush_and_get_frame/1, "flush_replicator"}
        ] do
      message = "#{what} is not supported in local mode"
      assert {:error, ^message} = f.(s)
      assert {:error, ^message} = f.(s.conn_id)
    end

    assert {:error, "sync_until is not supported in local mode"} = Native.sync_until_frame(s, 1)

    assert {:error, "sync_until is not supported in local mode"} =
             Native.sync_until_frame(s.conn_id, 1)

    assert_raise FunctionClauseError, fn -> Native.sync_until_frame(s, -1) end
  end

  # As the original answered: no writes went through a replica, and freezing is for replicas.
  test "max write frame is 0 and freezing is unsupported on a local connection", %{s: s} do
    assert {:ok, 0} = Native.get_max_write_frame(s)
    assert {:ok, 0} = Native.get_max_write_frame(s.conn_id)
    assert Native.max_write_replication_index(s.conn_id) == 0
    assert {:error, :unsupported} = Native.freeze_replica(s)
    assert {:error, :unsupported} = Native.freeze_replica(:not_a_state)
    assert Native.freeze_database(s.conn_id) == :unsupported
    # the connection is untouched
    assert rows!(s, "SELECT 1") == [[1]]
  end

  test "compatibility names", %{s: s} do
    c = s.conn_id

    assert {:error, "replication_index is not supported in local mode"} =
             Native.get_frame_number(c)

    assert {:error, "sync_until is not supported in local mode"} = Native.sync_until(c, 5)

    assert {:error, "flush_replicator is not supported in local mode"} =
             Native.flush_replicator(c)
  end

  test "closed and bad handles", %{s: s} do
    :ok = Native.close(s)
    assert {:error, "Sync error: Connection not found: it is closed"} = Native.sync(s)
    assert {:error, "Connection not found: it is closed"} = Native.get_max_write_frame(s)
    assert {:error, "Connection not found: it is closed"} = Native.freeze_database(s.conn_id)
    assert {:error, :unsupported} = Native.freeze_replica(s)

    assert {:error, "Connection not found: not a connection handle"} =
             Native.get_frame_number(make_ref())

    assert {:error, "Sync error: Connection not found: not a connection handle"} =
             Native.sync(%State{conn_id: :nope})
  end
end
