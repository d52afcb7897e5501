# Ecto's and ecto_sql's shared integration suites against Ecto.Adapters.LibSql. The suites are
# read from the ecto and ecto_sql dependencies (ECTO_LIBSQL_DEPS_PATH checkouts or Hex), never
# copied here. Run with: scripts/integration
Logger.configure(level: :info)

Application.put_env(:ecto, :primary_key_type, :id)
Application.put_env(:ecto, :async_integration_tests, false)
Application.put_env(:ecto_sql, :lock_for_update, nil)

ecto = Mix.Project.deps_paths()[:ecto]
ecto_sql = Mix.Project.deps_paths()[:ecto_sql]
Code.require_file("#{ecto_sql}/integration_test/support/repo.exs")

dir = Path.join(System.tmp_dir!(), "ecto_libsql_integration_#{System.os_time()}")
File.mkdir_p!(dir)
database = Path.join(dir, "ecto_test.db")

alias Ecto.Integration.{PoolRepo, TestRepo}

# Prefixes are attached databases. ATTACH holds for one connection, so every connection of the
# pools attaches the suites' prefixes (the :attach option).
attach =
  for prefix <- ~w(ecto_prefix_test bad_schema_migrations),
      do: {String.to_atom(prefix), Path.join(dir, prefix <> ".db")}

Application.put_env(:ecto_sql, TestRepo,
  database: database,
  attach: attach,
  pool: Ecto.Adapters.SQL.Sandbox,
  show_sensitive_data_on_connection_error: true,
  log: false
)

defmodule Ecto.Integration.TestRepo do
  use Ecto.Integration.Repo, otp_app: :ecto_sql, adapter: Ecto.Adapters.LibSql

  # Every connection attaches the prefixes (see :attach above): creating one writes its schema
  # (failing when it is not attached), dropping one leaves the attached, emptied file.
  def create_prefix(prefix), do: "PRAGMA \"#{prefix}\".user_version = 0"
  def drop_prefix(prefix), do: "PRAGMA \"#{prefix}\".user_version = 0"
  def uuid, do: Ecto.UUID
end

defmodule Ecto.Integration.PoolRepo do
  use Ecto.Integration.Repo, otp_app: :ecto_sql, adapter: Ecto.Adapters.LibSql
end

Application.put_env(:ecto_sql, PoolRepo,
  database: database,
  attach: attach,
  pool_size: 5,
  busy_timeout: 10_000
)

Code.require_file("#{ecto}/integration_test/support/schemas.exs")
Code.require_file("#{ecto_sql}/integration_test/support/migration.exs")

defmodule Ecto.Integration.Case do
  use ExUnit.CaseTemplate

  setup do
    :ok = Ecto.Adapters.SQL.Sandbox.checkout(TestRepo)
  end
end

{:ok, _} = Ecto.Adapters.LibSql.ensure_all_started(TestRepo.config(), :temporary)
_ = Ecto.Adapters.LibSql.storage_down(TestRepo.config())
:ok = Ecto.Adapters.LibSql.storage_up(TestRepo.config())

{:ok, _pid} = TestRepo.start_link()
{:ok, _pid} = PoolRepo.start_link()

# Every entry names the SQLite limitation behind it.
excludes = [
  # SQLite's ON DELETE SET NULL / SET DEFAULT act on the whole foreign key, not a column list.
  :on_delete_nilify_column_list,
  :on_delete_default_column_list,
  # SQLite has one isolation level (serializable): there is nothing to choose.
  :transaction_isolation,
  # SQLite has no DISTINCT ON (distinct over some columns only).
  :multicolumn_distinct,
  # SQLite has no bit string type (a value that is not a whole number of bytes).
  :bitstring_type,
  # SQLite has no row locks (SELECT ... FOR UPDATE); its locks cover the whole database.
  test: "test lock for update",
  # SQLite has no array type nor its SQL syntax: these tests run PostgreSQL's `array[...]` and
  # `$1::text[]`. Arrays in schemas work (stored as JSON) and their tests run.
  test: "test fragment array types",
  test: "test Converts empty array correctly",
  # SQLite has no JSON column type: a schemaless select of an embed returns the stored JSON text
  # (selects through a schema load it as the embed).
  test: "test embeds one with custom type",
  # SQLite has no boolean type: JSON true / false extract as 1 / 0 (the test's other JSON path
  # checks pass, see test/ecto/connection/json_test.exs).
  test: "test json_extract_path with primitive values",
  # UUIDs are stored as text, as the original adapter stores them (existing databases keep
  # working); this test expects the dumped parameter to be the 16-byte binary form.
  test: "test telemetry cast params",
  # The migration lock is an immediate transaction on a lock file, over a connection of its own,
  # so migrations run with a pool of one connection; this test expects PostgreSQL's error (its
  # lock holds a pooled connection).
  test: "test raises when connection pool is too small",
  # SQLite's flexible typing stores the migrator's integer version and timestamp text in the
  # test's TEXT / INTEGER schema_migrations columns: the insert the test expects to fail succeeds.
  test: "test does not commit migration if insert into schema migration fails"
]

# Elixir 1.14 has no Duration type.
excludes = if Code.ensure_loaded?(Duration), do: excludes, else: [:duration_type | excludes]

ExUnit.configure(exclude: excludes)

:ok = Ecto.Migrator.up(TestRepo, 0, Ecto.Integration.Migration, log: false)
Ecto.Adapters.SQL.Sandbox.mode(TestRepo, :manual)
Process.flag(:trap_exit, true)

ExUnit.start()
