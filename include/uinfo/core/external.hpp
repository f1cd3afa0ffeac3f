// Eigen and xsimd, the libraries uinfo is built on, included in one place. GCC 12 reports false
// "(may be) used uninitialized" warnings inside Eigen's AVX-512 packet code and inside its own
// AVX-512 intrinsics once they are inlined into ours (GCC bug 105593, e.g. _mm512_max_ps in
// Relu); the warnings are attributed to those headers' lines, so silencing them around the first
// inclusion of the headers keeps the warning on for uinfo's own code. A program that includes
// <immintrin.h>, Eigen or xsimd before uinfo gets no such cover.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <xsimd/xsimd.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
