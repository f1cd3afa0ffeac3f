// Weight initialisation schemes, usable as template arguments: `Dense<64, inferred,
// glorot_uniform>`.
#pragma once

#include <cmath>
#include <string>

#include "uinfo/core/format.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo {

// A structural type, so an initialisation can be a template argument.
struct Init {
  enum class Kind {
    he_normal,
    he_uniform,
    glorot_normal,
    glorot_uniform,
    lecun_uniform,
    scaled_normal
  };
  Kind kind;
  double gain = 1.0;  // scaled_normal: standard deviation is gain / sqrt(fan_in)

  std::string name() const {
    switch (kind) {
      case Kind::he_normal:
        return "he_normal";
      case Kind::he_uniform:
        return "he_uniform";
      case Kind::glorot_normal:
        return "glorot_normal";
      case Kind::glorot_uniform:
        return "glorot_uniform";
      case Kind::lecun_uniform:
        return "lecun_uniform";
      case Kind::scaled_normal:
        return "scaled_normal(" + shortest(gain) + ")";
    }
    return "unknown";
  }
};

// He et al. 2015, for ReLU: N(0, 2 / fan_in).
inline constexpr Init he_normal{Init::Kind::he_normal};
inline constexpr Init he_uniform{Init::Kind::he_uniform};
// Glorot & Bengio 2010, for tanh and sigmoid: variance 2 / (fan_in + fan_out).
inline constexpr Init glorot_normal{Init::Kind::glorot_normal};
inline constexpr Init glorot_uniform{Init::Kind::glorot_uniform};
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for nn.Linear weights.
inline constexpr Init lecun_uniform{Init::Kind::lecun_uniform};
// N(0, gain^2 / fan_in): a tunable scale, e.g. to start a bottleneck near its linear regime.
constexpr Init scaled_normal(double gain) {
  return {Init::Kind::scaled_normal, gain};
}

// Fills a weight matrix whose fans are given: a convolution's (out channels x k * k * in
// channels) weight feeds each output from fan_in = k * k * in channels values and each input
// into fan_out = k * k * out channels outputs, as in PyTorch.
template <class S>
void initialize(Matrix<S>& weight, Init init, Engine& engine, double fan_in, double fan_out) {
  auto fill_normal = [&](double stddev) {
    for (Index i = 0; i < weight.size(); ++i)
      weight.data()[i] = static_cast<S>(stddev * engine.normal());
  };
  auto fill_uniform = [&](double limit) {
    for (Index i = 0; i < weight.size(); ++i) {
      weight.data()[i] = static_cast<S>(engine.uniform(-limit, limit));
    }
  };
  switch (init.kind) {
    case Init::Kind::he_normal:
      return fill_normal(std::sqrt(2.0 / fan_in));
    case Init::Kind::he_uniform:
      return fill_uniform(std::sqrt(6.0 / fan_in));
    case Init::Kind::glorot_normal:
      return fill_normal(std::sqrt(2.0 / (fan_in + fan_out)));
    case Init::Kind::glorot_uniform:
      return fill_uniform(std::sqrt(6.0 / (fan_in + fan_out)));
    case Init::Kind::lecun_uniform:
      return fill_uniform(1.0 / std::sqrt(fan_in));
    case Init::Kind::scaled_normal:
      return fill_normal(init.gain / std::sqrt(fan_in));
  }
}

// Fills a (fan_out x fan_in) weight matrix.
template <class S>
void initialize(Matrix<S>& weight, Init init, Engine& engine) {
  initialize(weight, init, engine, static_cast<double>(weight.cols()),
             static_cast<double>(weight.rows()));
}

}  // namespace uinfo
