// Errors: every bad runtime input raises one of these, with text that says what was wrong,
// where, and what was expected.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

#include "uinfo/core/tensor.hpp"

namespace uinfo {

// Base of every exception uinfo throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A value that violates a documented precondition: a shape, a size, a label, an option.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// A NaN or an infinity where finite numbers are required.
class NonFiniteValue : public Error {
 public:
  using Error::Error;
};

// Training produced a non-finite loss: usually a learning rate that is too high.
class Diverged : public Error {
 public:
  using Error::Error;
};

// A file that cannot be read, written, or that does not hold what it should.
class IoError : public Error {
 public:
  using Error::Error;
};

// Whether every entry of `m` is finite: x * 0 is 0 for finite x and NaN otherwise, and a sum
// vectorises well.
template <class Derived>
bool all_finite(const Eigen::DenseBase<Derived>& m) {
  return std::isfinite((m.derived().array() * 0).sum());
}

// Throws NonFiniteValue naming the first non-finite entry of `m` (feature row, sample column).
// `what` names the matrix in the message, e.g. "input batch" or "training data"; a view, so that
// a check that passes allocates nothing.
template <class Derived>
void require_finite(const Eigen::DenseBase<Derived>& m, std::string_view what) {
  if (all_finite(m)) return;  // the scan below runs only to build the message
  for (Index col = 0; col < m.cols(); ++col) {
    for (Index row = 0; row < m.rows(); ++row) {
      const auto v = m(row, col);
      if (!std::isfinite(v)) {
        throw NonFiniteValue("uinfo: " + std::string(what) + " has " +
                             (std::isnan(v) ? "a NaN" : "an infinity") + " at feature " +
                             std::to_string(row) + " of sample " + std::to_string(col) +
                             "; expected finite values");
      }
    }
  }
}

}  // namespace uinfo
