#include "ecto_libsql/error.hpp"

#include <array>
#include <utility>

namespace ecto_libsql {

std::string_view primary_code_name(int code) noexcept {
  static constexpr std::array<std::string_view, 29> kNames = {
      "ok",       "error",      "internal", "perm",      "abort",  "busy",
      "locked",   "nomem",      "readonly", "interrupt", "ioerr",  "corrupt",
      "notfound", "full",       "cantopen", "protocol",  "empty",  "schema",
      "toobig",   "constraint", "mismatch", "misuse",    "nolfs",  "auth",
      "format",   "range",      "notadb",   "notice",    "warning"};
  const int primary = code & 0xff;
  if (primary == 100) return "row";
  if (primary == 101) return "done";
  if (primary >= 0 && primary < static_cast<int>(kNames.size())) return kNames[primary];
  return "unknown";
}

std::string_view extended_code_name(int code) noexcept {
  static constexpr std::pair<int, std::string_view> kNames[] = {
      {257, "error_missing_collseq"},
      {513, "error_retry"},
      {769, "error_snapshot"},
      {266, "ioerr_read"},
      {522, "ioerr_short_read"},
      {778, "ioerr_write"},
      {1034, "ioerr_fsync"},
      {1290, "ioerr_dir_fsync"},
      {1546, "ioerr_truncate"},
      {1802, "ioerr_fstat"},
      {2058, "ioerr_unlock"},
      {2314, "ioerr_rdlock"},
      {2570, "ioerr_delete"},
      {2826, "ioerr_blocked"},
      {3082, "ioerr_nomem"},
      {3338, "ioerr_access"},
      {3594, "ioerr_checkreservedlock"},
      {3850, "ioerr_lock"},
      {4106, "ioerr_close"},
      {4362, "ioerr_dir_close"},
      {4618, "ioerr_shmopen"},
      {4874, "ioerr_shmsize"},
      {5130, "ioerr_shmlock"},
      {5386, "ioerr_shmmap"},
      {5642, "ioerr_seek"},
      {5898, "ioerr_delete_noent"},
      {6154, "ioerr_mmap"},
      {6410, "ioerr_gettemppath"},
      {6666, "ioerr_convpath"},
      {6922, "ioerr_vnode"},
      {7178, "ioerr_auth"},
      {7434, "ioerr_begin_atomic"},
      {7690, "ioerr_commit_atomic"},
      {7946, "ioerr_rollback_atomic"},
      {8202, "ioerr_data"},
      {8458, "ioerr_corruptfs"},
      {262, "locked_sharedcache"},
      {518, "locked_vtab"},
      {261, "busy_recovery"},
      {517, "busy_snapshot"},
      {773, "busy_timeout"},
      {270, "cantopen_notempdir"},
      {526, "cantopen_isdir"},
      {782, "cantopen_fullpath"},
      {1038, "cantopen_convpath"},
      {1294, "cantopen_dirtywal"},
      {1550, "cantopen_symlink"},
      {267, "corrupt_vtab"},
      {523, "corrupt_sequence"},
      {779, "corrupt_index"},
      {264, "readonly_recovery"},
      {520, "readonly_cantlock"},
      {776, "readonly_rollback"},
      {1032, "readonly_dbmoved"},
      {1288, "readonly_cantinit"},
      {1544, "readonly_directory"},
      {516, "abort_rollback"},
      {275, "constraint_check"},
      {531, "constraint_commithook"},
      {787, "constraint_foreignkey"},
      {1043, "constraint_function"},
      {1299, "constraint_notnull"},
      {1555, "constraint_primarykey"},
      {1811, "constraint_trigger"},
      {2067, "constraint_unique"},
      {2323, "constraint_vtab"},
      {2579, "constraint_rowid"},
      {2835, "constraint_pinned"},
      {3091, "constraint_datatype"},
      {283, "notice_recover_wal"},
      {539, "notice_recover_rollback"},
      {284, "warning_autoindex"},
      {279, "auth_user"},
      {256, "ok_load_permanently"},
  };
  for (const auto& [value, name] : kNames) {
    if (value == code) return name;
  }
  return primary_code_name(code);
}

}  // namespace ecto_libsql
