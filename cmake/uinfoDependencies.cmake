# Finds uinfo's dependencies; used by uinfo's own build and by the installed package config.
include(CMakeFindDependencyMacro)
find_dependency(Eigen3 3.4 NO_MODULE)
find_dependency(xsimd 8)
# zlib reads gzip-compressed data files (data/byte_reader.hpp), as MNIST-like data sets ship.
find_dependency(ZLIB)
# Debian 12's xsimd 8 config links its target to "xtl" (for optional xtl complex numbers) without
# defining it, which would make the linker look for a library -lxtl. uinfo uses no xtl types, so an
# empty target satisfies the link.
if(NOT TARGET xtl)
  add_library(xtl INTERFACE IMPORTED)
endif()
