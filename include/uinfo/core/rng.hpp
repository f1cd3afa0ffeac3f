// Seeded randomness with independent streams.
//
// One seed fixes every random choice: weight initialisation, shuffling and dropout draw from
// separate streams, so e.g. changing the dropout rate does not change the initial weights. The
// generators and distributions are implemented here (xoshiro256**, SplitMix64, Box-Muller)
// because the standard library's distributions differ between implementations.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <span>
#include <utility>

namespace uinfo {

// Which part of an experiment a random stream serves.
enum class Stream : std::uint64_t {
  init = 1,
  shuffle = 2,
  dropout = 3,
  data = 4,
  user = 5,
  noise = 6,
  augment = 7
};

namespace detail {
__extension__ using uint128 =
    unsigned __int128;  // GCC and Clang; __extension__ keeps -Wpedantic quiet

constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace detail

// xoshiro256**: fast, 256-bit state, passes BigCrush; satisfies UniformRandomBitGenerator.
class Engine {
 public:
  using result_type = std::uint64_t;

  explicit constexpr Engine(std::uint64_t seed) {
    for (auto& word : state_) word = detail::splitmix64(seed);
  }

  // Everything that fixes the rest of the stream: the generator's words and the normal draw
  // Box-Muller keeps in hand. A checkpoint saves it; an engine built from it continues the same
  // stream bit for bit.
  struct State {
    std::array<std::uint64_t, 4> words{};
    double spare = 0;
    bool has_spare = false;
    friend bool operator==(const State&, const State&) = default;
  };
  State state() const { return {state_, spare_, has_spare_}; }
  // xoshiro256** never leaves the all-zero state, so an engine must not start there.
  static bool valid(const State& s) {
    return s.words != std::array<std::uint64_t, 4>{} && (!s.has_spare || std::isfinite(s.spare));
  }
  explicit constexpr Engine(const State& s)
      : state_(s.words), spare_(s.spare), has_spare_(s.has_spare) {}

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  constexpr result_type operator()() {
    const std::uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = std::rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1), using as many random bits as the type's mantissa holds.
  template <class T = double>
  T uniform() {
    constexpr int bits = std::numeric_limits<T>::digits;
    return static_cast<T>((*this)() >> (64 - bits)) * (T(1) / static_cast<T>(1ULL << bits));
  }

  template <class T = double>
  T uniform(T low, T high) {
    return low + (high - low) * uniform<T>();
  }

  // Standard normal by Box-Muller; computed in double, so float and double draws agree.
  template <class T = double>
  T normal() {
    if (has_spare_) {
      has_spare_ = false;
      return static_cast<T>(spare_);
    }
    const double u1 = 1.0 - uniform<double>();  // in (0, 1]: log is finite
    const double u2 = uniform<double>();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    spare_ = radius * std::sin(2.0 * std::numbers::pi * u2);
    has_spare_ = true;
    return static_cast<T>(radius * std::cos(2.0 * std::numbers::pi * u2));
  }

  // Uniform integer in [0, n) without modulo bias (Lemire's multiply-and-reject).
  std::uint64_t below(std::uint64_t n) {
    detail::uint128 product = static_cast<detail::uint128>((*this)()) * n;
    auto low = static_cast<std::uint64_t>(product);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        product = static_cast<detail::uint128>((*this)()) * n;
        low = static_cast<std::uint64_t>(product);
      }
    }
    return static_cast<std::uint64_t>(product >> 64);
  }

  // Fisher-Yates shuffle in place.
  template <class T>
  void shuffle(std::span<T> items) {
    for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[below(i)]);
  }

  friend bool operator==(const Engine&, const Engine&) = default;

 private:
  std::array<std::uint64_t, 4> state_{};
  double spare_ = 0;
  bool has_spare_ = false;
};

// The experiment's seed; hands out one independent engine per (stream, index) pair.
class Rng {
 public:
  explicit constexpr Rng(std::uint64_t seed) : seed_(seed) {}

  constexpr std::uint64_t seed() const { return seed_; }

  // E.g. engine(Stream::init, 3) initialises layer 3; engine(Stream::shuffle) orders minibatches.
  constexpr Engine engine(Stream stream, std::uint64_t index = 0) const {
    std::uint64_t mix = seed_;
    std::uint64_t key = detail::splitmix64(mix) ^ static_cast<std::uint64_t>(stream);
    key = detail::splitmix64(key) ^ index;
    return Engine{detail::splitmix64(key)};
  }

 private:
  std::uint64_t seed_;
};

}  // namespace uinfo
