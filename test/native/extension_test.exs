defmodule EctoLibSql.Native.ExtensionTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Native}

  # The extension is our own C source, compiled here with the system C compiler.
  setup_all do
    source = Path.expand("fixtures/twice_extension.c", __DIR__)

    dir =
      Path.join(
        System.tmp_dir!(),
        "ecto_libsql_ext_#{System.pid()}_#{System.unique_integer([:positive])}"
      )

    File.mkdir_p!(dir)
    library = Path.join(dir, "twice_extension.so")
    compiler = System.find_executable("gcc") || System.find_executable("cc")

    {output, status} =
      System.cmd(compiler, ["-shared", "-fPIC", "-O2", "-o", library, source],
        stderr_to_stdout: true
      )

    assert status == 0, "compiling the test extension failed:\n#{output}"
    on_exit(fn -> File.rm_rf!(dir) end)
    %{library: library}
  end

  test "loading is refused until enabled", %{library: library} do
    s = connect!()

    assert {:error, "Failed to load extension: not authorized"} = Native.load_ext(s, library)

    assert {:error, %Error{message: "no such function: twice"}} =
             Native.execute(s, "SELECT twice(2)")
  end

  test "enable_extensions/2 then load_ext/3 with the default entry point", %{library: library} do
    s = connect!()
    assert :ok = Native.enable_extensions(s, true)
    assert :ok = Native.load_ext(s, library)
    assert rows!(s, "SELECT twice(21), twice(NULL), twice_version()") == [[42, nil, "twice 1.0"]]
    # disabling again stops further loads; what is loaded stays
    assert :ok = Native.enable_extensions(s, false)
    assert {:error, "Failed to load extension: not authorized"} = Native.load_ext(s, library)
    assert rows!(s, "SELECT twice(1)") == [[2]]
  end

  test "a named entry point, and one that fails", %{library: library} do
    s = connect!()
    :ok = Native.enable_extensions(s, true)
    assert :ok = Native.load_ext(s, library, "ecto_twice_init")
    assert rows!(s, "SELECT twice(5)") == [[10]]

    assert {:error,
            "Failed to load extension: error during initialization: twice refuses to load"} =
             Native.load_ext(s, library, "ecto_twice_fail")

    assert {:error, "Failed to load extension: " <> message} =
             Native.load_ext(s, library, "no_such_entry_point")

    assert message =~ "no_such_entry_point"
  end

  test "a missing file is a clear error", %{library: _} do
    s = connect!()
    :ok = Native.enable_extensions(s, true)

    assert {:error, "Failed to load extension: " <> message} =
             Native.load_ext(s, "/nonexistent/lib.so")

    assert message =~ "/nonexistent/lib.so"
  end

  test "extensions belong to one connection", %{library: library} do
    s = connect!()
    other = connect!()
    :ok = Native.enable_extensions(s, true)
    :ok = Native.load_ext(s, library)

    assert {:error, %Error{message: "no such function: twice"}} =
             Native.execute(other, "SELECT twice(2)")
  end

  test "compatibility enable_load_extension/2 and load_extension/3", %{library: library} do
    s = connect!()
    c = s.conn_id

    assert {:error, "Failed to load extension: not authorized"} =
             Native.load_extension(c, library, nil)

    assert :ok = Native.enable_load_extension(c, true)
    assert :ok = Native.load_extension(c, library, "ecto_twice_init")
    assert rows!(s, "SELECT twice(4)") == [[8]]
  end

  test "argument checks", %{library: library} do
    s = connect!()
    assert_raise FunctionClauseError, fn -> Native.enable_extensions(s, "yes") end
    assert_raise FunctionClauseError, fn -> Native.load_ext(s, :lib) end
    assert_raise ArgumentError, fn -> Native.load_extension(s.conn_id, library, :entry) end
    assert_raise ArgumentError, fn -> Native.enable_load_extension(s.conn_id, 1) end
    :ok = Native.close(s)
    assert {:error, "Connection not found: it is closed"} = Native.load_ext(s, library)
  end
end
