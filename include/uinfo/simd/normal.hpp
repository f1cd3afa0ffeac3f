// Gaussian noise added to a block of values, from a seeded engine: what noisy recurrent networks
// draw at every step (units x trials values per step, nearly two million per update of the
// multi-area network), so it is vectorised.
//
// Each call seeds one xoshiro128+ generator per vector lane from the engine (Blackman & Vigna:
// the "+" variant is the one meant for floating-point values; its weak low bits are not used
// here) and turns pairs of their 32-bit words into pairs of normal values by the Box-Muller
// transform in float, with its own polynomial logarithm, sine and cosine. The lane code is
// written once for scalars and xsimd batches with explicit multiply-adds, so the scalar path
// (UINFO_NO_SIMD, and the tests) gives the same bits as the vectorised one; the values depend on
// the engine's state, the length of the block and the build's vector width.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "uinfo/core/external.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo::simd {

namespace normal_detail {

using Floats = xsimd::batch<float>;
using Words = xsimd::batch<std::uint32_t>;
static_assert(Floats::size == Words::size);
// Generator lanes: one per float lane of the build's vectors.
inline constexpr Index lanes = Floats::size;

// Multiply-adds rounded once in both paths: xsimd 8's fma for AVX-512 is a * b + c, which the
// compiler may contract with either product of a chain (and so differently in the scalar code);
// the intrinsics and std::fma are single operations that it leaves alone.
#if defined(__FMA__)
inline __m128 fused_multiply_add(__m128 a, __m128 b, __m128 c) {
  return _mm_fmadd_ps(a, b, c);
}
inline __m256 fused_multiply_add(__m256 a, __m256 b, __m256 c) {
  return _mm256_fmadd_ps(a, b, c);
}
#endif
#if defined(__AVX512F__)
inline __m512 fused_multiply_add(__m512 a, __m512 b, __m512 c) {
  return _mm512_fmadd_ps(a, b, c);
}
#endif
inline float fma(float a, float b, float c) {
  return std::fma(a, b, c);
}
template <class A>
xsimd::batch<float, A> fma(xsimd::batch<float, A> a, xsimd::batch<float, A> b,
                           xsimd::batch<float, A> c) {
  if constexpr (requires { fused_multiply_add(a.data, b.data, c.data); }) {
    return fused_multiply_add(a.data, b.data, c.data);
  } else {
    return xsimd::fma(a, b, c);  // without FMA instructions: may round twice
  }
}
inline float sqrt(float x) {
  return std::sqrt(x);
}
template <class A>
xsimd::batch<float, A> sqrt(xsimd::batch<float, A> x) {
  return xsimd::sqrt(x);
}
inline float select(bool condition, float a, float b) {
  return condition ? a : b;
}
template <class A>
xsimd::batch<float, A> select(xsimd::batch_bool<float, A> condition, xsimd::batch<float, A> a,
                              xsimd::batch<float, A> b) {
  return xsimd::select(condition, a, b);
}
// A word below 2^31, converted exactly or rounded to nearest.
inline float to_float(std::uint32_t w) {
  return static_cast<float>(static_cast<std::int32_t>(w));
}
template <class A>
xsimd::batch<float, A> to_float(xsimd::batch<std::uint32_t, A> w) {
  return xsimd::batch_cast<float>(xsimd::bitwise_cast<xsimd::batch<std::int32_t, A>>(w));
}
inline std::uint32_t bits(float x) {
  return std::bit_cast<std::uint32_t>(x);
}
template <class A>
xsimd::batch<std::uint32_t, A> bits(xsimd::batch<float, A> x) {
  return xsimd::bitwise_cast<xsimd::batch<std::uint32_t, A>>(x);
}
inline float from_bits(std::uint32_t w) {
  return std::bit_cast<float>(w);
}
template <class A>
xsimd::batch<float, A> from_bits(xsimd::batch<std::uint32_t, A> w) {
  return xsimd::bitwise_cast<xsimd::batch<float, A>>(w);
}

// The float type of a word type: float for std::uint32_t, the batch of floats for a batch.
template <class W>
using FloatOf = decltype(to_float(W{}));

// ln(u) for u in (0, 1] (no zero, infinity or NaN): u = m 2^e with m in [sqrt(1/2), sqrt(2)),
// ln(u) = e ln 2 + ln(m), ln(1 + f) = f - f²/2 + f³ P(f) with Cephes' minimax P for logf; ln 2
// in two parts so that e ln 2 adds no rounding error. About 1 ulp.
template <class W>
FloatOf<W> log_unit(FloatOf<W> u) {
  using F = FloatOf<W>;
  const W word = bits(u);
  F exponent = to_float((word >> 23) & W(0xff)) - F(127.0f);
  F m = from_bits((word & W(0x7fffff)) | W(0x3f800000));  // in [1, 2)
  const auto large = m > F(1.41421356f);
  m = select(large, m * F(0.5f), m);
  exponent = select(large, exponent + F(1.0f), exponent);
  const F f = m - F(1.0f);
  const F f2 = f * f;
  F p = F(7.0376836292e-2f);
  p = fma(p, f, F(-1.1514610310e-1f));
  p = fma(p, f, F(1.1676998740e-1f));
  p = fma(p, f, F(-1.2420140846e-1f));
  p = fma(p, f, F(1.4249322787e-1f));
  p = fma(p, f, F(-1.6668057665e-1f));
  p = fma(p, f, F(2.0000714765e-1f));
  p = fma(p, f, F(-2.4999993993e-1f));
  p = fma(p, f, F(3.3333331174e-1f));
  F y = p * f * f2;
  y = fma(exponent, F(-2.12194440e-4f), y);
  y = fma(f2, F(-0.5f), y);
  return fma(exponent, F(0.693359375f), f + y);
}

// cos and sin of theta in [0, pi/2], by their Taylor series to the terms below float's rounding
// there (theta^12 and theta^11; the next terms are below 6e-8).
template <class F>
void cos_sin_quarter(F theta, F& cos, F& sin) {
  const F t2 = theta * theta;
  F c = F(1.0f / 479001600.0f);
  c = fma(c, t2, F(-1.0f / 3628800.0f));
  c = fma(c, t2, F(1.0f / 40320.0f));
  c = fma(c, t2, F(-1.0f / 720.0f));
  c = fma(c, t2, F(1.0f / 24.0f));
  c = fma(c, t2, F(-0.5f));
  cos = fma(c, t2, F(1.0f));
  F s = F(-1.0f / 39916800.0f);
  s = fma(s, t2, F(1.0f / 362880.0f));
  s = fma(s, t2, F(-1.0f / 5040.0f));
  s = fma(s, t2, F(1.0f / 120.0f));
  s = fma(s, t2, F(-1.0f / 6.0f));
  sin = fma(s * t2, theta, theta);
}

// One xoshiro128+ generator per lane (W: one word, or a batch of words, one per lane).
template <class W>
struct Xoshiro128Plus {
  W s0, s1, s2, s3;

  W next() {
    const W result = s0 + s3;
    const W t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >> 21);
    return result;
  }

  // Two standard normal values times `scale`, from two words: the radius from 31 bits of the
  // first, u in [2^-32, 1] (so |z| < 6.7); the angle from the second, whose top 22 bits place it
  // in a quarter turn and two more bits reflect it into one of the four quadrants.
  void normal_pair(FloatOf<W> scale, FloatOf<W>& z0, FloatOf<W>& z1) {
    using F = FloatOf<W>;
    const W a = next(), b = next();
    const F u = fma(to_float(a >> 1), F(0x1p-31f), F(0x1p-32f));
    const F radius = scale * sqrt(F(-2.0f) * log_unit<W>(u));
    F cos, sin;
    cos_sin_quarter(to_float(b >> 10) * F(1.57079632679f * 0x1p-22f), cos, sin);
    z0 = from_bits(bits(radius * cos) ^ ((b << 22) & W(0x80000000u)));
    z1 = from_bits(bits(radius * sin) ^ ((b << 23) & W(0x80000000u)));
  }
};

// Lane l's generator state as four words, from the engine: 2 lanes' words per engine draw.
struct Seeds {
  std::uint32_t words[4][lanes];
  explicit Seeds(Engine& engine) {
    for (auto& word : words) {
      for (Index l = 0; l < lanes; l += 2) {
        const std::uint64_t draw = engine();
        word[l] = static_cast<std::uint32_t>(draw);
        if (l + 1 < lanes) word[l + 1] = static_cast<std::uint32_t>(draw >> 32);
      }
    }
  }
};

// x[i] += z[i] for the n < 2 lanes values of a pair of vectors (z0's lanes, then z1's).
template <class S>
void add_pair(S* x, Index n, const float* z) {
  for (Index i = 0; i < n; ++i) x[i] += static_cast<S>(z[i]);
}

}  // namespace normal_detail

// x[i] += stddev * N(0, 1) for i < n, one lane at a time: the reference the vectorised path
// agrees with bit for bit.
template <class S>
void add_normal_scalar(Engine& engine, S* x, Index n, S stddev) {
  using namespace normal_detail;
  const Seeds seeds(engine);
  Xoshiro128Plus<std::uint32_t> lane[lanes];
  for (Index l = 0; l < lanes; ++l) {
    lane[l] = {seeds.words[0][l], seeds.words[1][l], seeds.words[2][l], seeds.words[3][l]};
  }
  const auto scale = static_cast<float>(stddev);
  float z[2 * lanes];
  for (Index i = 0; i < n; i += 2 * lanes) {
    for (Index l = 0; l < lanes; ++l) lane[l].normal_pair(scale, z[l], z[lanes + l]);
    add_pair(x + i, std::min(n - i, 2 * lanes), z);
  }
}

// x[i] += stddev * N(0, 1) for i < n; a call draws 2 * lanes words from the engine to seed its
// generators, whatever n.
template <class S>
void add_normal(Engine& engine, S* x, Index n, S stddev) {
#ifdef UINFO_NO_SIMD
  add_normal_scalar(engine, x, n, stddev);
#else
  using namespace normal_detail;
  const Seeds seeds(engine);
  Xoshiro128Plus<Words> lane{
      Words::load_unaligned(seeds.words[0]), Words::load_unaligned(seeds.words[1]),
      Words::load_unaligned(seeds.words[2]), Words::load_unaligned(seeds.words[3])};
  const Floats scale(static_cast<float>(stddev));
  Floats z0, z1;
  Index i = 0;
  if constexpr (std::is_same_v<S, float>) {
    for (; i + 2 * lanes <= n; i += 2 * lanes) {
      lane.normal_pair(scale, z0, z1);
      (Floats::load_unaligned(x + i) + z0).store_unaligned(x + i);
      (Floats::load_unaligned(x + i + lanes) + z1).store_unaligned(x + i + lanes);
    }
  }
  alignas(64) float z[2 * lanes];
  for (; i < n; i += 2 * lanes) {
    lane.normal_pair(scale, z0, z1);
    z0.store_aligned(z);
    z1.store_aligned(z + lanes);
    add_pair(x + i, std::min(n - i, 2 * lanes), z);
  }
#endif
}

}  // namespace uinfo::simd
