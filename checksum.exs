# SHA-256 of this version's precompiled NIF artefacts, verified by `mix compile` before it
# installs one. Written at release time by `mix ecto_libsql.checksum` from the release's
# artefacts (.github/workflows/precompiled.yml). Empty in a source checkout, which builds
# the NIF from source.
%{
}
