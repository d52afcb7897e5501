// Boost.JSON compiled into the engine (header-only mode), so the NIF needs no extra library.
#include <boost/json/src.hpp>  // IWYU pragma: keep
