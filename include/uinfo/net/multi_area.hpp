// MultiAreaCircuit: the connectivity of a multi-area recurrent rate network whose units obey
// Dale's law (Kleinman, Chandrasekaran & Kao 2021, after pycog's models), and its initialisation.
//
//   Sequential<float, Input<4>, LeakyRnn<300>, Dense<2>> net{Rng{seed}};
//   const MultiAreaCircuit circuit({.areas = 3, .units = 300});
//   Engine init = Rng{seed}.engine(Stream::user);
//   circuit.build(net.layer<1>(), net.layer<2>(), init);
//
// Units are numbered as in the authors' code: the excitatory (E) ones first, then the inhibitory
// (I) ones, and each list is split into equal consecutive parts, one per area, so that area a is
// E [a nE/A, (a+1) nE/A) together with I [nE + a nI/A, ...). Within an area every unit reaches
// every other (E->E, E->I, I->E, I->I, no self-connections). Between areas only E units connect:
// area a's E to area a+1's E with probability `feedforward` and area a+1's E to area a's E with
// probability `feedback` (optionally area a's E to area a+1's I, `feedforward_inhibitory`), drawn
// once from the mask's own seed, so every network seed shares one anatomy. The inputs reach every
// unit of the first area; the outputs read the last area's E units.
#pragma once

#include <Eigen/Eigenvalues>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/layers/weight_constraint.hpp"

namespace uinfo {

struct MultiAreaOptions {
  Index areas = 3;
  Index units = 300;
  double excitatory_fraction = 0.8;
  double feedforward = 0.1;           // area a E -> area a+1 E
  double feedback = 0.05;             // area a+1 E -> area a E
  double feedforward_inhibitory = 0;  // area a E -> area a+1 I
  Index inputs = 4;                   // to every unit of the first area
  Index outputs = 2;                  // from the last area's E units
  std::uint64_t mask_seed = 1000;     // the anatomy's own seed
  bool dale = true;                   // false: no signs, no positivity (masks kept)
  double spectral_radius = 1.5;       // of the initial effective recurrent weights
  double initial_state = 0.1;         // x0 of every unit
};

class MultiAreaCircuit {
 public:
  explicit MultiAreaCircuit(MultiAreaOptions options) : options_(options) {
    const Index n = options.units, areas = options.areas;
    const auto excitatory = static_cast<Index>(std::floor(options.excitatory_fraction * n + 0.5));
    const Index inhibitory = n - excitatory;
    auto probability = [](double p) { return p >= 0 && p <= 1; };
    if (areas < 1 || n < 2 || excitatory <= 0 || inhibitory <= 0 || excitatory % areas != 0 ||
        inhibitory % areas != 0 || options.inputs < 1 || options.outputs < 1 ||
        !probability(options.feedforward) || !probability(options.feedback) ||
        !probability(options.feedforward_inhibitory) || !(options.spectral_radius > 0)) {
      throw InvalidArgument(
          "uinfo::MultiAreaCircuit: " + std::to_string(n) + " units (" +
          std::to_string(excitatory) + " E, " + std::to_string(inhibitory) + " I) in " +
          std::to_string(areas) +
          " areas; expected at least one E and one I unit per area with both counts divisible "
          "by the number of areas, connection probabilities in [0, 1], at least one input and "
          "output and a positive spectral radius");
    }
    const Index e = excitatory / areas, i = inhibitory / areas;
    for (Index a = 0; a < areas; ++a) {
      std::vector<Index> exc, inh;
      for (Index k = 0; k < e; ++k) exc.push_back(a * e + k);
      for (Index k = 0; k < i; ++k) inh.push_back(excitatory + a * i + k);
      excitatory_.push_back(exc);
      inhibitory_.push_back(inh);
    }
    signs_ = Vector<double>::Ones(n);
    signs_.tail(inhibitory).setConstant(-1);
    build_masks();
  }

  const MultiAreaOptions& options() const { return options_; }
  Index areas() const { return options_.areas; }
  Index units() const { return options_.units; }
  const std::vector<Index>& excitatory(Index area) const { return excitatory_.at(area); }
  const std::vector<Index>& inhibitory(Index area) const { return inhibitory_.at(area); }
  // An area's units, E then I: the features a probe of that area reads.
  std::vector<Index> area_units(Index area) const {
    std::vector<Index> all = excitatory(area);
    all.insert(all.end(), inhibitory(area).begin(), inhibitory(area).end());
    return all;
  }
  const Vector<double>& signs() const { return signs_; }  // +1 E, -1 I
  // 0/1, receiving unit x sending unit (or input, or unit).
  const Matrix<double>& recurrent_mask() const { return recurrent_mask_; }
  const Matrix<double>& input_mask() const { return input_mask_; }
  const Matrix<double>& output_mask() const { return output_mask_; }
  // The initial weights' scale per connection, rows of unit L2 norm (zero where absent).
  const Matrix<double>& recurrent_scale() const { return recurrent_scale_; }

  // Configures a LeakyRnn layer (Dale's law with rectified weights, positive inputs, the masks)
  // and its Dense readout (positive weights from the last area's E units, bias fixed at 0), and
  // draws their initial weights from `init` as the reference does: W_rec ~ Gamma(2, 0.05 C)
  // (normal with standard deviation C without Dale's law), W_in and W_out ~ |U(-0.1, 0.1)|, then
  // W_rec scaled so the effective recurrent weights have the spectral radius asked for; b = 0,
  // x0 = initial_state.
  template <class Rnn, class Readout>
  void build(Rnn& rnn, Readout& readout, Engine& init) const {
    using S = typename Rnn::scalar_type;
    const Index n = units();
    if (rnn.units() != n || rnn.inputs() != options_.inputs ||
        readout.weight().value.rows() != options_.outputs || readout.weight().value.cols() != n) {
      throw InvalidArgument("uinfo::MultiAreaCircuit::build: the circuit has " +
                            std::to_string(options_.inputs) + " inputs, " + std::to_string(n) +
                            " units and " + std::to_string(options_.outputs) +
                            " outputs; the layers are " + rnn.name() + " and " + readout.name());
    }
    const Positivity positivity = options_.dale ? Positivity::rectify : Positivity::none;
    auto options = rnn.options();
    options.input_constraint = {positivity, {}};
    options.recurrent_constraint = {positivity,
                                    options_.dale ? Vector<S>(signs_.cast<S>()) : Vector<S>()};
    rnn.configure(options);
    readout.constrain({positivity, {}});

    // Draws in the reference's order: W_in, W_rec, W_out, each over its connections, row-major.
    auto uniform_positive = [&](const Matrix<double>& mask) {
      Matrix<double> w = Matrix<double>::Zero(mask.rows(), mask.cols());
      for (Index r = 0; r < w.rows(); ++r)
        for (Index c = 0; c < w.cols(); ++c)
          if (mask(r, c) != 0) w(r, c) = std::abs(0.1 * init.uniform(-1.0, 1.0));
      return w;
    };
    const Matrix<double> w_in = uniform_positive(input_mask_);
    Matrix<double> w_rec = Matrix<double>::Zero(n, n);
    for (Index r = 0; r < n; ++r) {
      for (Index c = 0; c < n; ++c) {
        const double scale = recurrent_scale_(r, c);
        if (scale == 0) continue;
        w_rec(r, c) = options_.dale ? 0.05 * scale * (exponential(init) + exponential(init))
                                    : scale * init.normal();
      }
    }
    const Matrix<double> w_out = uniform_positive(output_mask_);
    const Matrix<double> effective =
        options_.dale ? Matrix<double>(w_rec * signs_.asDiagonal()) : w_rec;
    w_rec *= options_.spectral_radius / spectral_radius(effective);

    rnn.input_weight().value = w_in.cast<S>();
    rnn.recurrent_weight().value = w_rec.cast<S>();
    rnn.set_connectivity(input_mask_.cast<S>(), recurrent_mask_.cast<S>());
    rnn.bias().value.setZero();
    rnn.initial_state().value.setConstant(static_cast<S>(options_.initial_state));
    readout.weight().value = w_out.cast<S>();
    readout.set_connectivity(output_mask_.cast<S>());
    readout.bias().value.setZero();
    readout.bias().plastic.setZero(readout.bias().value.rows(), 1);
  }

  // The largest absolute eigenvalue of a square matrix. A template, so that the eigensolver is
  // instantiated only where it is used, not in every program that includes uinfo (seconds each).
  template <class Derived>
  static double spectral_radius(const Eigen::MatrixBase<Derived>& w) {
    using Solver = Eigen::EigenSolver<Matrix<typename Derived::Scalar>>;
    return Solver(w, false).eigenvalues().cwiseAbs().maxCoeff();
  }

 private:
  static double exponential(Engine& engine) { return -std::log(1.0 - engine.uniform()); }

  void build_masks() {
    const Index n = units(), areas = options_.areas;
    recurrent_mask_ = Matrix<double>::Zero(n, n);
    recurrent_scale_ = Matrix<double>::Zero(n, n);
    Engine engine{options_.mask_seed};
    auto connect = [&](const std::vector<Index>& to, const std::vector<Index>& from, double scale) {
      for (const Index r : to)
        for (const Index c : from)
          if (r != c) recurrent_scale_(r, c) = scale;
    };
    for (Index a = 0; a < areas; ++a) {
      const auto& exc = excitatory(a);
      const auto& inh = inhibitory(a);
      const double e = static_cast<double>(exc.size()), i = static_cast<double>(inh.size());
      connect(exc, exc, 1);
      connect(exc, inh, (e - 1) / i);  // inhibition balancing the area's excitation of a unit
      connect(inh, exc, 1);
      connect(inh, inh, i > 1 ? e / (i - 1) : 0);
      if (a + 1 == areas) continue;
      const auto& next_exc = excitatory(a + 1);
      const auto& next_inh = inhibitory(a + 1);
      for (const Index unit : exc) {  // feedback (drawn first), then feed-forward, per E unit
        for (const Index source : next_exc) {
          if (engine.uniform() < options_.feedback) recurrent_scale_(unit, source) = 1;
        }
        for (const Index target : next_exc) {
          if (engine.uniform() < options_.feedforward) recurrent_scale_(target, unit) = 1;
        }
        if (options_.feedforward_inhibitory > 0) {
          for (const Index target : next_inh) {
            if (engine.uniform() < options_.feedforward_inhibitory) {
              recurrent_scale_(target, unit) = 1;
            }
          }
        }
      }
    }
    for (Index r = 0; r < n; ++r) {
      const double norm = recurrent_scale_.row(r).norm();
      if (norm > 0) recurrent_scale_.row(r) /= norm;
    }
    recurrent_mask_ = (recurrent_scale_.array() != 0).cast<double>();
    input_mask_ = Matrix<double>::Zero(n, options_.inputs);
    for (const Index unit : area_units(0)) input_mask_.row(unit).setOnes();
    output_mask_ = Matrix<double>::Zero(options_.outputs, n);
    for (const Index unit : excitatory(options_.areas - 1)) output_mask_.col(unit).setOnes();
  }

  MultiAreaOptions options_;
  std::vector<std::vector<Index>> excitatory_, inhibitory_;
  Vector<double> signs_;
  Matrix<double> recurrent_mask_, recurrent_scale_, input_mask_, output_mask_;
};

}  // namespace uinfo
