# The package: its file list, precompiled NIF installation, and builds of a copy of the package
# as a user's project builds it. Needs no Hex package.
Code.require_file("support/package.exs", __DIR__)
ExUnit.start(exclude: [:slow])
