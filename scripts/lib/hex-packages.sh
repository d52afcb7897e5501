# Sourced by the scripts: decides where the Hex packages (db_connection, ecto, ecto_sql,
# decimal, telemetry, jason) come from, and exports the result.
#   1. ECTO_LIBSQL_DEPS_PATH, when set: a folder with one source checkout per package.
#   2. Hex, when installed and its repository answers (`mix deps.get`).
#   3. ../shared/hexdeps beside the checkout, when it exists (the package sources our CI
#      machines provide; nothing of them is copied into the repository).
#   4. none: ECTO_LIBSQL_OFFLINE=1, only the engine and the native-driver layer are built.
# Sets HEX_PACKAGES to "path <dir>", "hex" or "none". ECTO_LIBSQL_OFFLINE=1 given by the
# caller forces 4.
resolve_hex_packages() {
  local root shared
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  if [[ "${ECTO_LIBSQL_OFFLINE:-}" == 1 || "${ECTO_LIBSQL_OFFLINE:-}" == true ]]; then
    unset ECTO_LIBSQL_DEPS_PATH
    HEX_PACKAGES=none
  elif [[ -n "${ECTO_LIBSQL_DEPS_PATH:-}" ]]; then
    HEX_PACKAGES="path $ECTO_LIBSQL_DEPS_PATH"
  elif [[ "$(mix archive 2>/dev/null)" == *"* hex"* ]] &&
    (cd "$root" && timeout 120 mix deps.get >/dev/null 2>&1); then
    HEX_PACKAGES=hex
  elif shared="$root/../shared/hexdeps" && [[ -d "$shared/ecto_sql" ]]; then
    ECTO_LIBSQL_DEPS_PATH="$(cd "$shared" && pwd)"
    export ECTO_LIBSQL_DEPS_PATH
    HEX_PACKAGES="path $ECTO_LIBSQL_DEPS_PATH"
  else
    export ECTO_LIBSQL_OFFLINE=1
    HEX_PACKAGES=none
  fi
  export HEX_PACKAGES
}
