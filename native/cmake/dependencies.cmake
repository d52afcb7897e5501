# Finds what the engine and the NIF build against, and says which package to install when
# something is missing. Defines:
#   ecto_libsql::sqlite3         SQLite (the system's library, or the amalgamation in
#                                ECTO_LIBSQL_SQLITE_SOURCE compiled in)
#   ecto_libsql::boost           Boost headers (Asio, Beast, JSON; no Boost library is linked)
#   OpenSSL::SSL, OpenSSL::Crypto, Threads::Threads
# and, with ECTO_LIBSQL_PACKAGE, the static libraries the packaged NIF links:
#   ecto_libsql::sqlite3_static, ecto_libsql::ssl_static, ecto_libsql::crypto_static

# Explains a missing dependency: which package provides it on each platform.
function(ecto_libsql_missing what debian fedora alpine homebrew arch)
  message(FATAL_ERROR
    "${what} not found. Install it with\n"
    "  Debian/Ubuntu:  apt-get install ${debian}\n"
    "  Fedora:         dnf install ${fedora}\n"
    "  Alpine:         apk add ${alpine}\n"
    "  macOS Homebrew: brew install ${homebrew}\n"
    "  Arch:           pacman -S ${arch}\n"
    "or point CMake at it (CMAKE_PREFIX_PATH). README.md lists every prerequisite of a source "
    "build; the precompiled NIF needs none of them.")
endfunction()

# Homebrew installs SQLite, OpenSSL and Boost keg-only on macOS: look in its prefixes.
if(APPLE)
  foreach(prefix $ENV{HOMEBREW_PREFIX} /opt/homebrew /usr/local)
    foreach(formula sqlite openssl@3 boost)
      if(EXISTS "${prefix}/opt/${formula}")
        list(APPEND CMAKE_PREFIX_PATH "${prefix}/opt/${formula}")
      endif()
    endforeach()
  endforeach()
  if(NOT OPENSSL_ROOT_DIR)
    foreach(prefix $ENV{HOMEBREW_PREFIX} /opt/homebrew /usr/local)
      if(EXISTS "${prefix}/opt/openssl@3")
        set(OPENSSL_ROOT_DIR "${prefix}/opt/openssl@3")
        break()
      endif()
    endforeach()
  endif()
endif()

find_package(Threads REQUIRED)

# --- SQLite ----------------------------------------------------------------------------------
set(ECTO_LIBSQL_SQLITE_MIN_VERSION 3.35.0)  # RETURNING
if(ECTO_LIBSQL_SQLITE_SOURCE)
  if(NOT EXISTS "${ECTO_LIBSQL_SQLITE_SOURCE}/sqlite3.c")
    message(FATAL_ERROR "ECTO_LIBSQL_SQLITE_SOURCE=${ECTO_LIBSQL_SQLITE_SOURCE} holds no sqlite3.c "
                        "(unpack SQLite's amalgamation there)")
  endif()
  include(${CMAKE_CURRENT_LIST_DIR}/sqlite_options.cmake)
  add_library(ecto_libsql_sqlite3 STATIC ${ECTO_LIBSQL_SQLITE_SOURCE}/sqlite3.c)
  target_compile_definitions(ecto_libsql_sqlite3 PRIVATE ${ECTO_LIBSQL_SQLITE_OPTIONS})
  target_compile_options(ecto_libsql_sqlite3 PRIVATE -w)  # third-party code: not ours to lint
  target_include_directories(ecto_libsql_sqlite3 SYSTEM PUBLIC ${ECTO_LIBSQL_SQLITE_SOURCE})
  target_link_libraries(ecto_libsql_sqlite3 PUBLIC Threads::Threads ${CMAKE_DL_LIBS})
  if(NOT APPLE)
    target_link_libraries(ecto_libsql_sqlite3 PUBLIC m)
  endif()
  set_target_properties(ecto_libsql_sqlite3 PROPERTIES C_VISIBILITY_PRESET hidden)
  add_library(ecto_libsql::sqlite3 ALIAS ecto_libsql_sqlite3)
  add_library(ecto_libsql::sqlite3_static ALIAS ecto_libsql_sqlite3)
  set(SQLITE3_INCLUDE_DIR ${ECTO_LIBSQL_SQLITE_SOURCE})
else()
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(PC_SQLITE3 QUIET sqlite3)
  endif()
  find_path(SQLITE3_INCLUDE_DIR sqlite3.h HINTS ${PC_SQLITE3_INCLUDE_DIRS})
  find_library(SQLITE3_LIBRARY NAMES sqlite3 HINTS ${PC_SQLITE3_LIBRARY_DIRS})
  if(NOT SQLITE3_INCLUDE_DIR OR NOT SQLITE3_LIBRARY)
    ecto_libsql_missing("SQLite 3 (sqlite3.h and libsqlite3)" libsqlite3-dev sqlite-devel
                        sqlite-dev sqlite sqlite)
  endif()
  add_library(ecto_libsql::sqlite3 UNKNOWN IMPORTED)
  set_target_properties(ecto_libsql::sqlite3 PROPERTIES IMPORTED_LOCATION "${SQLITE3_LIBRARY}"
                        INTERFACE_INCLUDE_DIRECTORIES "${SQLITE3_INCLUDE_DIR}")
endif()
file(STRINGS "${SQLITE3_INCLUDE_DIR}/sqlite3.h" _sqlite_version REGEX "^#define SQLITE_VERSION +\"")
string(REGEX REPLACE ".*\"([0-9.]+)\".*" "\\1" ECTO_LIBSQL_SQLITE_VERSION "${_sqlite_version}")
if(ECTO_LIBSQL_SQLITE_VERSION VERSION_LESS ECTO_LIBSQL_SQLITE_MIN_VERSION)
  message(FATAL_ERROR "SQLite ${ECTO_LIBSQL_SQLITE_VERSION} (${SQLITE3_INCLUDE_DIR}) is older than "
                      "${ECTO_LIBSQL_SQLITE_MIN_VERSION}: install a newer SQLite")
endif()

# --- OpenSSL ---------------------------------------------------------------------------------
find_package(OpenSSL 3.0)
if(NOT OPENSSL_FOUND)
  ecto_libsql_missing("OpenSSL >= 3.0 (headers and libraries)" libssl-dev openssl-devel
                      openssl-dev openssl@3 openssl)
endif()

# --- Boost (headers only) ----------------------------------------------------------------------
set(ECTO_LIBSQL_BOOST_MIN_VERSION 1.81)
find_package(Boost ${ECTO_LIBSQL_BOOST_MIN_VERSION} CONFIG QUIET)
add_library(ecto_libsql::boost INTERFACE IMPORTED)
if(Boost_FOUND)
  target_link_libraries(ecto_libsql::boost INTERFACE Boost::headers)
else()
  # Boost installed without its CMake files: the headers are enough.
  find_path(BOOST_INCLUDE_DIR boost/version.hpp)
  if(BOOST_INCLUDE_DIR)
    file(STRINGS "${BOOST_INCLUDE_DIR}/boost/version.hpp" _boost_version
         REGEX "^#define BOOST_VERSION [0-9]+")
    string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _boost_version "${_boost_version}")
    math(EXPR _boost_minor "${_boost_version} / 100 % 1000")
  endif()
  if(NOT BOOST_INCLUDE_DIR OR _boost_minor LESS 81)
    ecto_libsql_missing("Boost >= ${ECTO_LIBSQL_BOOST_MIN_VERSION} (headers)"
                        "libboost1.81-dev (Debian 12) or libboost-dev (Ubuntu 24.04, Debian 13)"
                        boost-devel boost-dev boost boost)
  endif()
  target_include_directories(ecto_libsql::boost SYSTEM INTERFACE ${BOOST_INCLUDE_DIR})
endif()

# --- static libraries of the packaged NIF ------------------------------------------------------
if(ECTO_LIBSQL_PACKAGE)
  function(ecto_libsql_static_library target name near)
    get_filename_component(dir "${near}" DIRECTORY)
    find_library(${target}_PATH NAMES lib${name}.a HINTS ${dir} NO_CACHE)
    if(NOT ${target}_PATH)
      message(FATAL_ERROR "lib${name}.a not found next to ${near}: the packaged NIF links its "
                          "dependencies statically (Debian: the -dev packages ship them; Alpine: "
                          "sqlite-static, openssl-libs-static)")
    endif()
    add_library(${target} STATIC IMPORTED)
    set_target_properties(${target} PROPERTIES IMPORTED_LOCATION "${${target}_PATH}")
  endfunction()

  if(NOT TARGET ecto_libsql::sqlite3_static)
    ecto_libsql_static_library(ecto_libsql::sqlite3_static sqlite3 "${SQLITE3_LIBRARY}")
    set_property(TARGET ecto_libsql::sqlite3_static PROPERTY INTERFACE_LINK_LIBRARIES
                 Threads::Threads ${CMAKE_DL_LIBS} m)
  endif()
  ecto_libsql_static_library(ecto_libsql::crypto_static crypto "${OPENSSL_CRYPTO_LIBRARY}")
  set_property(TARGET ecto_libsql::crypto_static PROPERTY INTERFACE_LINK_LIBRARIES
               Threads::Threads ${CMAKE_DL_LIBS})
  ecto_libsql_static_library(ecto_libsql::ssl_static ssl "${OPENSSL_SSL_LIBRARY}")
  set_property(TARGET ecto_libsql::ssl_static PROPERTY INTERFACE_LINK_LIBRARIES
               ecto_libsql::crypto_static)
endif()
