// Finite-difference gradient checks, for uinfo's layers and for your own.
//
//   auto report = check_gradients(Sequential<double, Input<5>, MyLayer>{Rng{1}});
//   REQUIRE(report.passed);   // report.worst says where the largest error is
//
// The objective is L = sum(R .* output) + the layers' penalties, for a fixed random R; backward's
// parameter and input gradients are compared with central differences. Each evaluation runs on a
// copy of the network as it was, so stochastic layers (Dropout, a recurrent layer's noise) draw the
// same values every time. With `steps` > 1 the input is a batch of `batch` sequences (through time:
// backpropagation through time is checked); with `lengths`, trials are that long and R is zero on
// their padding, which is never scored. Fixed elements (Parameter::plastic) are not checked.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "uinfo/core/rng.hpp"
#include "uinfo/net/sequential.hpp"

namespace uinfo {

struct GradientCheckOptions {
  Index batch = 3;
  double epsilon = 1e-6;
  double tolerance = 1e-6;  // on |analytic - numeric| / max(1, |analytic|, |numeric|)
  std::uint64_t seed = 1;   // draws the input and R
  Mode mode = Mode::train;
  Index steps = 1;             // > 1: `batch` trials of this many steps
  std::vector<Index> lengths;  // each trial's length (empty: all `steps`)
};

struct GradientCheckReport {
  double max_error = 0;
  std::string worst;  // which gradient entry had max_error
  Index checked = 0;  // entries compared
  bool passed = true;
};

namespace detail {
inline void record(GradientCheckReport& report, double analytic, double numeric,
                   const GradientCheckOptions& options, const std::string& where) {
  const double error =
      std::abs(analytic - numeric) / std::max({1.0, std::abs(analytic), std::abs(numeric)});
  if (++report.checked == 1 || error > report.max_error) {
    report.max_error = error;
    report.worst =
        where + ": analytic " + std::to_string(analytic) + ", numeric " + std::to_string(numeric);
  }
  report.passed = report.max_error <= options.tolerance;
}
}  // namespace detail

template <class Net>
GradientCheckReport check_gradients(const Net& net, GradientCheckOptions options = {}) {
  static_assert(std::is_same_v<typename Net::scalar_type, double>,
                "uinfo::check_gradients: finite differences need Sequential<double, ...>");
  Engine engine = Rng{options.seed}.engine(Stream::user);
  const Timeline time{options.steps, options.batch, options.lengths, 0};
  Matrix<double> x(net.layer_size(0), time.columns());
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = engine.normal();
  const auto run = [&](Net& probe, const Matrix<double>& input) {
    return probe.forward(input, time, options.mode);
  };
  Net shape_probe = net;
  Matrix<double> r(net.layer_size(Net::depth - 1), run(shape_probe, x).cols());
  for (Index i = 0; i < r.size(); ++i) r.data()[i] = engine.normal();
  if (r.cols() == time.columns()) {  // outputs at every step: padding is not scored
    for (Index t = 0; t < time.steps; ++t) {
      for (Index b = 0; b < time.trials; ++b) {
        if (t >= time.length(b)) r.col(t * time.trials + b).setZero();
      }
    }
  }

  auto objective = [&](Net& probe, const Matrix<double>& input) {
    const double sum = run(probe, input).cwiseProduct(r).sum();
    return sum + probe.penalty();  // a layer's penalty on its activity (a rate penalty)
  };
  auto parameters_of = [](Net& n) {  // statistics have no gradient to check
    std::vector<Parameter<double>*> blocks;
    n.for_each_parameter([&](Parameter<double>& p) {
      if (p.trainable()) blocks.push_back(&p);
    });
    return blocks;
  };

  Net analytic = net;
  run(analytic, x);
  analytic.backward(r, InputGradient::compute);
  const auto analytic_blocks = parameters_of(analytic);

  GradientCheckReport report;
  const double h = options.epsilon;
  for (std::size_t b = 0; b < analytic_blocks.size(); ++b) {
    for (Index i = 0; i < analytic_blocks[b]->size(); ++i) {
      const auto* plastic = analytic_blocks[b]->plastic_data();
      if (plastic && plastic[i] == 0) continue;  // a fixed element is never trained
      double values[2];
      for (int side = 0; side < 2; ++side) {
        Net probe = net;
        parameters_of(probe)[b]->value.data()[i] += side ? -h : h;
        values[side] = objective(probe, x);
      }
      detail::record(report, analytic_blocks[b]->gradient.data()[i],
                     (values[0] - values[1]) / (2 * h), options,
                     "parameter block " + std::to_string(b) + " (" +
                         std::string(analytic_blocks[b]->name()) + ") entry " + std::to_string(i));
    }
  }
  const Matrix<double> input_gradient = analytic.input_gradient();
  for (Index i = 0; i < x.size(); ++i) {
    double values[2];
    for (int side = 0; side < 2; ++side) {
      Net probe = net;
      Matrix<double> shifted = x;
      shifted.data()[i] += side ? -h : h;
      values[side] = objective(probe, shifted);
    }
    detail::record(report, input_gradient.data()[i], (values[0] - values[1]) / (2 * h), options,
                   "input entry " + std::to_string(i));
  }
  return report;
}

// The gradient of a loss's value_and_gradient against central differences of its value.
template <class Loss, class Targets>
GradientCheckReport check_loss_gradients(const Loss& loss, const Matrix<double>& outputs,
                                         const Targets& targets,
                                         GradientCheckOptions options = {}) {
  Matrix<double> gradient(outputs.rows(), outputs.cols());
  loss.template value_and_gradient<double>(
      outputs, targets, MatrixView<double>(gradient.data(), gradient.rows(), gradient.cols()));
  GradientCheckReport report;
  for (Index i = 0; i < outputs.size(); ++i) {
    Matrix<double> plus = outputs, minus = outputs;
    plus.data()[i] += options.epsilon;
    minus.data()[i] -= options.epsilon;
    const double numeric =
        (loss.template value<double>(plus, targets) - loss.template value<double>(minus, targets)) /
        (2 * options.epsilon);
    detail::record(report, gradient.data()[i], numeric, options,
                   "output entry " + std::to_string(i));
  }
  return report;
}

// check_gradients for a single layer spec on inputs of size In.
template <class Spec, Index In>
GradientCheckReport check_layer_gradients(GradientCheckOptions options = {}) {
  return check_gradients(Sequential<double, Input<In>, Spec>{Rng{options.seed}}, options);
}

// ... or on images of shape In (channels x height x width).
template <class Spec, Shape In>
GradientCheckReport check_layer_gradients(GradientCheckOptions options = {}) {
  using Image = ImageInput<In.channels, In.height, In.width>;
  return check_gradients(Sequential<double, Image, Spec>{Rng{options.seed}}, options);
}

}  // namespace uinfo
