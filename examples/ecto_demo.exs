# A small Ecto application on a local libSQL database: schemas, migrations and a context.
# Needs the Hex packages (or ECTO_LIBSQL_DEPS_PATH pointing at local checkouts):
#
#   mix run examples/ecto_demo.exs

defmodule Demo.Repo do
  use Ecto.Repo, otp_app: :ecto_libsql, adapter: Ecto.Adapters.LibSql
end

defmodule Demo.Migrations.CreateBlog do
  use Ecto.Migration

  def change do
    create table(:authors) do
      add(:name, :string, null: false)
      timestamps()
    end

    create(unique_index(:authors, [:name]))

    create table(:posts) do
      add(:title, :string, null: false)
      add(:body, :text)
      add(:tags, {:array, :string}, default: "[]")
      add(:author_id, references(:authors, on_delete: :delete_all), null: false)
      timestamps()
    end

    create(index(:posts, [:author_id]))
  end
end

defmodule Demo.Migrations.PostsNeedTitles do
  use Ecto.Migration

  # A constraint on an existing table: the adapter rebuilds it, keeping rows and indexes.
  def change do
    create(constraint(:posts, :title_long_enough, check: "length(title) >= 3"))
  end
end

defmodule Demo.Blog.Author do
  use Ecto.Schema
  import Ecto.Changeset

  schema "authors" do
    field(:name, :string)
    has_many(:posts, Demo.Blog.Post)
    timestamps()
  end

  def changeset(author, attrs),
    do: author |> cast(attrs, [:name]) |> validate_required([:name]) |> unique_constraint(:name)
end

defmodule Demo.Blog.Post do
  use Ecto.Schema
  import Ecto.Changeset

  schema "posts" do
    field(:title, :string)
    field(:body, :string)
    field(:tags, {:array, :string}, default: [])
    belongs_to(:author, Demo.Blog.Author)
    timestamps()
  end

  def changeset(post, attrs),
    do:
      post
      |> cast(attrs, [:title, :body, :tags])
      |> check_constraint(:title, name: :title_long_enough, message: "is too short")
end

defmodule Demo.Blog do
  import Ecto.Query
  alias Demo.Blog.{Author, Post}
  alias Demo.Repo

  def create_author(name), do: %Author{} |> Author.changeset(%{name: name}) |> Repo.insert()

  def publish(%Author{} = author, attrs),
    do: author |> Ecto.build_assoc(:posts) |> Post.changeset(attrs) |> Repo.insert()

  def posts_tagged(tag) do
    from(p in Post,
      join: t in fragment("json_each(?)", p.tags),
      on: true,
      where: fragment("?.value", t) == ^tag,
      order_by: p.id,
      preload: :author
    )
    |> Repo.all()
  end

  def post_counts do
    from(a in Author,
      left_join: p in assoc(a, :posts),
      group_by: a.id,
      select: {a.name, count(p.id)},
      order_by: a.name
    )
    |> Repo.all()
  end
end

dir = Path.join(System.tmp_dir!(), "ecto_libsql_demo")
File.rm_rf!(dir)
File.mkdir_p!(dir)
Application.put_env(:ecto_libsql, Demo.Repo, database: Path.join(dir, "blog.db"), log: false)

:ok = Ecto.Adapters.LibSql.storage_up(Demo.Repo.config())
{:ok, _} = Demo.Repo.start_link()

Ecto.Migrator.run(
  Demo.Repo,
  [{1, Demo.Migrations.CreateBlog}, {2, Demo.Migrations.PostsNeedTitles}],
  :up,
  all: true,
  log: false
)

{:ok, ada} = Demo.Blog.create_author("Ada")
{:ok, grace} = Demo.Blog.create_author("Grace")
{:error, changeset} = Demo.Blog.create_author("Ada")
IO.puts("duplicate author: #{inspect(changeset.errors[:name])}")

{:ok, _} = Demo.Blog.publish(ada, %{title: "Engines", tags: ["maths", "machines"]})
{:ok, _} = Demo.Blog.publish(grace, %{title: "Compilers", tags: ["machines"]})
{:error, changeset} = Demo.Blog.publish(grace, %{title: "Hi"})
IO.puts("short title: #{inspect(changeset.errors[:title])}")

for post <- Demo.Blog.posts_tagged("machines"),
    do: IO.puts("tagged machines: #{post.title} by #{post.author.name}")

IO.puts("posts per author: #{inspect(Demo.Blog.post_counts())}")

# Deleting an author deletes their posts (ON DELETE CASCADE; foreign keys are enforced).
Demo.Repo.delete!(ada)
IO.puts("posts left: #{Demo.Repo.aggregate(Demo.Blog.Post, :count)}")
