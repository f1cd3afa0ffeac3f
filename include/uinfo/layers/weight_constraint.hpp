// WeightConstraint: the weights a layer computes with, made from the weights it trains, as
// biologically constrained networks need them (Song, Yang & Wang 2016; PsychRNN):
//   W_eff = pos(W) · diag(signs)
// pos is the identity, max(W, 0) ("rectify") or |W| ("absolute"); signs holds +1 or -1 per input
// column. With Dale's law a column is a presynaptic unit, excitatory (+1) or inhibitory (-1), and
// since pos(W) >= 0 no effective weight can ever take the wrong sign, whatever training does to W.
//
// Absent connections (a connectivity mask) are weights fixed at zero: the layer's Parameter marks
// them in `plastic`, so no optimizer moves them, and with a positivity they give W_eff exactly 0.
#pragma once

#include <string>

#include "uinfo/core/error.hpp"
#include "uinfo/core/parameter.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo {

enum class Positivity { none, rectify, absolute };

template <Scalar S>
struct WeightConstraint {
  Positivity positivity = Positivity::none;
  Vector<S> column_signs{};  // empty: no signs; else one +1 or -1 per column

  bool active() const { return positivity != Positivity::none || column_signs.size() != 0; }

  // Throws unless the constraint fits a weight matrix with `columns` columns; `where` names it.
  void check(Index columns, const std::string& where) const {
    if (column_signs.size() == 0) return;
    if (column_signs.size() != columns) {
      throw InvalidArgument("uinfo: " + where + ": " + std::to_string(column_signs.size()) +
                            " column signs for " + std::to_string(columns) +
                            " columns; expected one sign per presynaptic unit");
    }
    if (positivity == Positivity::none) {
      throw InvalidArgument("uinfo: " + where +
                            ": column signs (Dale's law) need a positivity (rectify or absolute), "
                            "or training could flip a weight's sign");
    }
    for (Index j = 0; j < columns; ++j) {
      if (column_signs(j) != S(1) && column_signs(j) != S(-1)) {
        throw InvalidArgument("uinfo: " + where + ": column " + std::to_string(j) + " has sign " +
                              std::to_string(column_signs(j)) + "; expected +1 or -1");
      }
    }
  }

  // effective = pos(raw) · diag(signs).
  void effective(const Matrix<S>& raw, Matrix<S>& effective) const {
    effective.resize(raw.rows(), raw.cols());  // no allocation once sized
    switch (positivity) {
      case Positivity::none:
        effective = raw;
        break;
      case Positivity::rectify:
        effective = raw.cwiseMax(S(0));
        break;
      case Positivity::absolute:
        effective = raw.cwiseAbs();
        break;
    }
    if (column_signs.size()) effective *= column_signs.asDiagonal();
  }

  // The gradient with respect to the raw weights from the one with respect to the effective
  // ones, in place: g <- pos'(raw) ⊙ (g · diag(signs)). pos' is 1 for raw > 0 and 0 at and below
  // 0 for rectify; sign(raw) for absolute (0 at 0).
  void raw_gradient(const Matrix<S>& raw, Matrix<S>& gradient) const {
    if (column_signs.size()) gradient *= column_signs.asDiagonal();
    switch (positivity) {
      case Positivity::none:
        break;
      case Positivity::rectify:
        gradient = (raw.array() > S(0)).select(gradient, S(0));
        break;
      case Positivity::absolute:
        gradient = gradient.cwiseProduct(raw.cwiseSign());
        break;
    }
  }
};

// Marks which elements of a weight block exist and learn (mask: 1 learns, 0 is fixed) and sets
// the absent ones (0 in the mask) to zero, so that with any positivity they carry nothing. An
// empty mask makes every element plastic again. `where` names the block in messages.
template <Scalar S>
void set_connectivity(Parameter<S>& p, const Matrix<S>& mask, const std::string& where) {
  if (mask.size() == 0) {
    p.plastic.resize(0, 0);
    return;
  }
  if (mask.rows() != p.value.rows() || mask.cols() != p.value.cols()) {
    throw InvalidArgument("uinfo: " + where + " is " + std::to_string(mask.rows()) + " x " +
                          std::to_string(mask.cols()) + "; expected " +
                          std::to_string(p.value.rows()) + " x " + std::to_string(p.value.cols()) +
                          " (receiving units x sending ones)");
  }
  if (!((mask.array() == S(0)) || (mask.array() == S(1))).all()) {
    throw InvalidArgument("uinfo: " + where + " holds a value other than 0 and 1");
  }
  p.plastic = mask;
  p.value = p.value.cwiseProduct(mask);
}

}  // namespace uinfo
