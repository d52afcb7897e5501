# Cross build for aarch64 Linux (glibc) on Debian x86_64 (scripts/package --target
# aarch64-linux-gnu): Debian's cross compiler (g++-aarch64-linux-gnu) with its own C library and
# libstdc++, and SQLite and OpenSSL from Debian's arm64 -dev packages unpacked into
# ECTO_LIBSQL_CROSS_DEPS. Boost headers and erl_nif.h are the host's: both are the same for every
# 64-bit Linux target.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

if(NOT ECTO_LIBSQL_CROSS_DEPS)
  message(FATAL_ERROR "set ECTO_LIBSQL_CROSS_DEPS to the unpacked arm64 -dev packages")
endif()
set(CMAKE_FIND_ROOT_PATH ${ECTO_LIBSQL_CROSS_DEPS})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(OPENSSL_ROOT_DIR ${ECTO_LIBSQL_CROSS_DEPS}/usr)
# OpenSSL's architecture-specific header (openssl/configuration.h).
set(CMAKE_C_FLAGS_INIT "-isystem ${ECTO_LIBSQL_CROSS_DEPS}/usr/include/aarch64-linux-gnu")
set(CMAKE_CXX_FLAGS_INIT "-isystem ${ECTO_LIBSQL_CROSS_DEPS}/usr/include/aarch64-linux-gnu")
set(ENV{PKG_CONFIG_LIBDIR} ${ECTO_LIBSQL_CROSS_DEPS}/usr/lib/aarch64-linux-gnu/pkgconfig)
set(ENV{PKG_CONFIG_SYSROOT_DIR} ${ECTO_LIBSQL_CROSS_DEPS})
# The checks CMake compiles (check_linker_flag) read this file again.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ECTO_LIBSQL_CROSS_DEPS)
