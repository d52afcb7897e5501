ecto = Mix.Project.deps_paths()[:ecto]
ecto_sql = Mix.Project.deps_paths()[:ecto_sql]

for file <- ~w(assoc interval joins preload repo type windows) do
  Code.require_file("#{ecto}/integration_test/cases/#{file}.exs")
end

for file <- ~w(alter lock logging migration migrator sandbox sql stream subquery transaction) do
  Code.require_file("#{ecto_sql}/integration_test/sql/#{file}.exs")
end
