// xsimd, included the way core/tensor.hpp includes Eigen. GCC 12 reports false "may be used
// uninitialized" warnings inside its own AVX-512 intrinsics once they are inlined into our code
// (GCC bug 105593, e.g. _mm512_max_ps in Relu), attributed to the intrinsic headers' lines;
// silencing them around the first inclusion of those headers keeps the warning on for ours.
// A program that includes <immintrin.h> or xsimd before uinfo gets no such cover.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <xsimd/xsimd.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
