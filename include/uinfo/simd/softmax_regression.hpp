// Multinomial logistic regression, softmax(W x + b): its mean cross-entropy over a fixed set of
// samples and the gradient, in one pass over the samples. This is what the linear decoder's
// L-BFGS evaluates a few dozen times per fit.
//
// The samples are laid out once in panels of one vector's width (16 floats, SamplePanels): a
// panel holds, for each feature, its samples' values in one vector. A panel's logits then come
// out with the samples in the lanes, one vector per class, so the softmax needs no horizontal
// reductions, and the panel's share of the weight gradient is added while the panel is in L1. A
// general matrix product would repack the whole samples x features matrix twice per evaluation (for
// the logits and for the gradient) to produce only `classes` rows each time: with 10 classes,
// packing cost as much as multiplying.
//
// The weight gradient is summed with a panel's logit gradients transposed so that classes fill
// the lanes. A binary label would use 2 of 16 lanes, so two classes take their own path: the
// softmax of two logits is the logistic function of their difference, one row of logits and of
// gradient does for both, and the samples stay in the lanes, a few panels at a time, so that each
// broadcast weight and each stored partial sum serves several panels.
#pragma once

#include <algorithm>
#include <span>
#include <utility>
#include <vector>

#include "uinfo/core/external.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"
#include "uinfo/simd/math.hpp"

namespace uinfo::simd {

namespace detail {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"  // Eigen's packet types as arguments
// Whether Eigen's vectors hold Width values of S: then transpose_square can run.
template <Scalar S, Index Width>
constexpr bool transposes_in_registers =
    Eigen::internal::unpacket_traits<typename Eigen::internal::packet_traits<S>::type>::size ==
    Width;

// Rows f .. f + Width of the columns `columns` (Width of them) into `panel` (row i's values
// contiguous at panel + (f + i) * Width), a square block transposed in registers: Eigen's
// in-register transpose, which its GEMM packing uses.
template <Scalar S, Index Width>
void transpose_square(const S* const (&columns)[Width], Index f, S* panel) {
  using Packet = typename Eigen::internal::packet_traits<S>::type;
  Eigen::internal::PacketBlock<Packet, Width> block;
  for (Index lane = 0; lane < Width; ++lane) {
    block.packet[lane] = Eigen::internal::ploadu<Packet>(columns[lane] + f);
  }
  Eigen::internal::ptranspose(block);
  for (Index i = 0; i < Width; ++i) {
    Eigen::internal::pstoreu(panel + (f + i) * Width, block.packet[i]);
  }
}
#pragma GCC diagnostic pop
}  // namespace detail

// Samples (features x samples) laid out in panels of one vector's width: a panel holds, for each
// feature, its samples' values in one vector; the last panel is padded with zeros. Built once per
// representation, read by every label's objective.
template <Scalar S>
class SamplePanels {
 public:
  static constexpr Index width = xsimd::batch<S>::size;  // samples per panel

  SamplePanels() = default;
  explicit SamplePanels(ConstMatrixRef<S> x) { assign(x); }

  // Lays x out anew, in the storage it already has when the size is the same: sample j of the
  // layout is column order[j] of x (column j if `order` is empty). Cross-validation lays the
  // samples out in a shuffled order, so that its folds can be runs of whole panels.
  void assign(ConstMatrixRef<S> x, std::span<const Index> order = {}) {
    features_ = x.rows();
    samples_ = x.cols();
    count_ = (samples_ + width - 1) / width;
    values_.resize(count_ * features_ * width);
    order_.assign(order.begin(), order.end());
    const auto column = [&](Index j) { return sample(j); };
    for (Index p = 0; p < count_; ++p) {
      S* panel = values_.data() + p * features_ * width;
      const Index first = p * width, lanes = std::min(width, samples_ - first);
      Index f = 0;
      if constexpr (detail::transposes_in_registers<S, width>) {
        if (lanes == width) {
          const S* columns[width];
          for (Index lane = 0; lane < width; ++lane)
            columns[lane] = x.col(column(first + lane)).data();
          for (; f + width <= features_; f += width) {
            detail::transpose_square<S, width>(columns, f, panel);
          }
        }
      }
      // The rest a value at a time (a cache line per store); the last panel's padding is zero.
      for (; f < features_; ++f) {
        for (Index lane = 0; lane < width; ++lane) {
          panel[f * width + lane] = lane < lanes ? x(f, column(first + lane)) : S(0);
        }
      }
    }
  }

  Index features() const { return features_; }
  Index samples() const { return samples_; }
  Index count() const { return count_; }
  const S* panel(Index p) const { return values_.data() + p * features_ * width; }
  // The column of x that sample j of the layout came from.
  Index sample(Index j) const { return order_.empty() ? j : order_[static_cast<std::size_t>(j)]; }

 private:
  Index features_ = 0, samples_ = 0, count_ = 0;
  Vector<S> values_;          // panels x features x width
  std::vector<Index> order_;  // empty: the columns' own order
};

template <Scalar S>
class SoftmaxRegression {
 public:
  using Batch = xsimd::batch<S>;
  static constexpr Index width = Batch::size;  // samples per panel

  // labels in [0, classes), one per column of the matrix x was laid out from (in its order, not
  // the layout's); x must outlive the objective.
  SoftmaxRegression(const SamplePanels<S>& x, std::span<const Label> labels, Index classes)
      : x_(x),
        features_(x.features()),
        classes_(classes),
        padded_classes_((classes + width - 1) / width * width),
        labels_(x.count() * width),
        logits_(classes_ * width),
        transposed_(width * padded_classes_),
        weight_gradient_(padded_classes_, features_),
        bias_gradient_(padded_classes_),
        difference_(classes_ == 2 ? features_ : 0),
        binary_sums_(classes_ == 2 ? (features_ + 1) * width : 0) {
    for (Index j = 0; j < labels_.size(); ++j) {
      labels_[j] =
          j < x.samples() ? static_cast<S>(labels[static_cast<std::size_t>(x.sample(j))]) : S(-1);
    }
    transposed_.setZero();  // the padding classes stay zero
    use_panels({});
  }
  SoftmaxRegression(const SamplePanels<S>&&, std::span<const Label>, Index) = delete;

  // Restricts the objective to the samples of the panels listed (all of them if the list is
  // empty): the training or held-out part of a cross-validation fold.
  void use_panels(std::span<const Index> panels) {
    active_.resize(panels.empty() ? static_cast<std::size_t>(x_.count()) : panels.size());
    for (std::size_t i = 0; i < active_.size(); ++i) {
      active_[i] = panels.empty() ? static_cast<Index>(i) : panels[i];
    }
    samples_ = 0;
    for (const Index p : active_) {
      for (Index lane = 0; lane < width; ++lane) samples_ += labels_[p * width + lane] >= S(0);
    }
  }
  // The samples the objective sums over.
  Index samples() const { return samples_; }

  // The mean cross-entropy (nats) of softmax(w x + b) (w: classes x features, b: classes x 1)
  // over the samples; writes its gradient with respect to w and b into dw and db.
  double loss_and_gradient(const Matrix<S>& w, const Matrix<S>& b, Matrix<S>& dw, Matrix<S>& db) {
    if (classes_ == 2) return binary_loss_and_gradient(w, b, dw, db);
    weight_gradient_.setZero();
    bias_gradient_.setZero();
    const S inverse_n = S(1) / static_cast<S>(samples_);
    double total = 0;
    for (const Index panel : active_) {
      const S* x = x_.panel(panel);
      for (Index first = 0; first < classes_; first += max_group) {
        logits_of_group(std::min(max_group, classes_ - first), x, w, b, first);
      }
      total += softmax_and_logit_gradient(Batch::load_unaligned(labels_.data() + panel * width),
                                          inverse_n);
      add_weight_gradient(x);
    }
    dw = weight_gradient_.topRows(classes_);
    db = bias_gradient_.head(classes_);
    return total / static_cast<double>(samples_);
  }

 private:
  static constexpr Index max_group = 16;  // classes whose logits are summed in registers at once
  static constexpr int features_at_once = 4;  // columns of dW summed in registers at once
  static constexpr int binary_block = 8;      // panels of a binary label handled at once

  // logits_[c] = b_c + sum_f w(c, f) x[f], for the `Group` classes from `first`. A small group
  // sums alternate features in separate chains, so that enough multiply-adds are independent to
  // keep the FMA units busy.
  template <int Group>
  void logits(const S* x, const Matrix<S>& w, const Matrix<S>& b, Index first) {
    constexpr int chains = Group >= 8 ? 1 : (8 + Group - 1) / Group;
    Batch sum[chains][Group];
    for (int chain = 0; chain < chains; ++chain) {
      for (int c = 0; c < Group; ++c) sum[chain][c] = Batch(chain == 0 ? b(first + c, 0) : S(0));
    }
    const S* weights = w.data() + first;
    const auto add = [&](int chain, Index f) {
      const Batch value = Batch::load_unaligned(x + f * width);
#pragma GCC unroll 16
      for (int c = 0; c < Group; ++c) {
        sum[chain][c] = xsimd::fma(value, Batch(weights[f * classes_ + c]), sum[chain][c]);
      }
    };
    Index f = 0;
    for (; f + chains <= features_; f += chains) {
#pragma GCC unroll 8
      for (int chain = 0; chain < chains; ++chain) add(chain, f + chain);
    }
    for (; f < features_; ++f) add(0, f);
    for (int c = 0; c < Group; ++c) {
      for (int chain = 1; chain < chains; ++chain) sum[0][c] += sum[chain][c];
      sum[0][c].store_unaligned(logits_.data() + (first + c) * width);
    }
  }

  // logits<size>, the group size being known only at run time.
  void logits_of_group(Index size, const S* x, const Matrix<S>& w, const Matrix<S>& b,
                       Index first) {
    [&]<int... G>(std::integer_sequence<int, G...>) {
      ((size == G + 1 ? logits<G + 1>(x, w, b, first) : void()), ...);
    }
    (std::make_integer_sequence<int, max_group>{});
  }

  // Turns the panel's logits into the gradient of the mean loss with respect to them,
  // (softmax - onehot) / n, zero for padding samples, stored in place of the logits; returns the
  // panel's summed loss.
  double softmax_and_logit_gradient(Batch label, S inverse_n) {
    const auto valid = label >= Batch(S(0));
    const auto row = [&](Index c) { return Batch::load_unaligned(logits_.data() + c * width); };
    Batch max = row(0);
    for (Index c = 1; c < classes_; ++c) max = xsimd::max(max, row(c));
    Batch sum(S(0)), picked(S(0));
    for (Index c = 0; c < classes_; ++c) {
      const Batch z = row(c);
      picked = xsimd::select(label == Batch(static_cast<S>(c)), z, picked);
      const Batch e = simd::exp(z - max);
      sum += e;
      e.store_unaligned(logits_.data() + c * width);  // the logits' row now holds exp
    }
    const Batch loss = max + xsimd::log(sum) - picked;
    const Batch scale = inverse_n / sum;
    for (Index c = 0; c < classes_; ++c) {
      const Batch onehot =
          xsimd::select(label == Batch(static_cast<S>(c)), Batch(inverse_n), Batch(S(0)));
      xsimd::select(valid, row(c) * scale - onehot, Batch(S(0)))
          .store_unaligned(logits_.data() + c * width);
    }
    return static_cast<double>(xsimd::hadd(xsimd::select(valid, loss, Batch(S(0)))));
  }

  // The two-class objective through the logit difference z = (w1 - w0) x + b1 - b0: the loss
  // is softplus(z) - y z, the gradient with respect to row 1 is (sigmoid(z) - y) [x 1] / n and
  // with respect to row 0 its negative.
  double binary_loss_and_gradient(const Matrix<S>& w, const Matrix<S>& b, Matrix<S>& dw,
                                  Matrix<S>& db) {
    difference_ = (w.row(1) - w.row(0)).transpose();
    binary_sums_.setZero();
    const S offset = b(1, 0) - b(0, 0), inverse_n = S(1) / static_cast<S>(samples_);
    double total = 0;
    const Index count = std::ssize(active_);
    Index i = 0;
    for (; i + binary_block <= count; i += binary_block) {
      total += binary_block_sums<binary_block>(active_.data() + i, offset, inverse_n);
    }
    for (; i < count; ++i) total += binary_block_sums<1>(active_.data() + i, offset, inverse_n);
    dw.resize(2, features_);
    db.resize(2, 1);
    for (Index f = 0; f <= features_; ++f) {
      const S sum = xsimd::hadd(Batch::load_unaligned(binary_sums_.data() + f * width));
      (f < features_ ? dw(1, f) : db(1, 0)) = sum;
    }
    dw.row(0) = -dw.row(1);
    db(0, 0) = -db(1, 0);
    return total / static_cast<double>(samples_);
  }

  // The panels panels[0 .. Panels): their logit differences, their share of binary_sums_ (one
  // vector of partial sums per feature, then the bias's) and their summed loss.
  template <int Panels>
  double binary_block_sums(const Index* panels, S offset, S inverse_n) {
    const S* x[Panels];
    Batch z[Panels];
    for (int p = 0; p < Panels; ++p) {
      x[p] = x_.panel(panels[p]);
      z[p] = Batch(offset);
    }
    for (Index f = 0; f < features_; ++f) {
      const Batch weight(difference_(f));
#pragma GCC unroll 8
      for (int p = 0; p < Panels; ++p) {
        z[p] = xsimd::fma(Batch::load_unaligned(x[p] + f * width), weight, z[p]);
      }
    }
    Batch loss(S(0)), bias_sum = Batch::load_unaligned(binary_sums_.data() + features_ * width);
    Batch gradient[Panels];
    for (int p = 0; p < Panels; ++p) {
      const Batch label = Batch::load_unaligned(labels_.data() + panels[p] * width);
      const auto valid = label >= Batch(S(0));
      // softplus(z) = max(z, 0) + log(1 + e) and sigmoid(z) = (z >= 0 ? 1 : e) / (1 + e), with
      // e = exp(-|z|) <= 1: neither overflows.
      const Batch e = simd::exp(-xsimd::abs(z[p]));
      const Batch softplus = xsimd::max(z[p], Batch(S(0))) + xsimd::log1p(e);
      const Batch sigmoid = xsimd::select(z[p] >= Batch(S(0)), Batch(S(1)), e) / (Batch(S(1)) + e);
      loss += xsimd::select(valid, softplus - label * z[p], Batch(S(0)));
      gradient[p] = xsimd::select(valid, (sigmoid - label) * inverse_n, Batch(S(0)));
      bias_sum += gradient[p];
    }
    bias_sum.store_unaligned(binary_sums_.data() + features_ * width);
    Index f = 0;
    for (; f + features_at_once <= features_; f += features_at_once) {
      add_binary_sums<features_at_once, Panels>(gradient, x, f);
    }
    for (; f < features_; ++f) add_binary_sums<1, Panels>(gradient, x, f);
    return static_cast<double>(xsimd::hadd(loss));
  }

  // binary_sums_ of features f .. f + Count gain the panels' gradients times their values: Count
  // independent chains of multiply-adds, as one feature's chain alone waits on each result.
  template <int Count, int Panels>
  void add_binary_sums(const Batch (&gradient)[Panels], const S* const (&x)[Panels], Index f) {
    Batch sum[Count];
    for (int i = 0; i < Count; ++i)
      sum[i] = Batch::load_unaligned(binary_sums_.data() + (f + i) * width);
#pragma GCC unroll 8
    for (int p = 0; p < Panels; ++p) {
      for (int i = 0; i < Count; ++i) {
        sum[i] = xsimd::fma(gradient[p], Batch::load_unaligned(x[p] + (f + i) * width), sum[i]);
      }
    }
    for (int i = 0; i < Count; ++i) sum[i].store_unaligned(binary_sums_.data() + (f + i) * width);
  }

  // dW += dZ xᵀ and db += dZ 1 for the panel, a vector of classes at a time: each feature's
  // column of dW gains the panel's samples' logit gradients weighted by their feature values.
  void add_weight_gradient(const S* x) {
    for (Index c = 0; c < classes_; ++c) {  // classes into the lanes
      for (Index lane = 0; lane < width; ++lane) {
        transposed_[lane * padded_classes_ + c] = logits_[c * width + lane];
      }
    }
    for (Index first = 0; first < padded_classes_; first += width) {
      Batch logit_gradient[width];
      for (Index lane = 0; lane < width; ++lane) {
        logit_gradient[lane] =
            Batch::load_unaligned(transposed_.data() + lane * padded_classes_ + first);
      }
      S* column = weight_gradient_.data() + first;
      Index f = 0;
      for (; f + features_at_once <= features_; f += features_at_once) {
        add_to_columns<features_at_once>(logit_gradient, x, f, column);
      }
      for (; f < features_; ++f) add_to_columns<1>(logit_gradient, x, f, column);
      Batch bias = Batch::load_unaligned(bias_gradient_.data() + first);
      for (Index lane = 0; lane < width; ++lane) bias += logit_gradient[lane];
      bias.store_unaligned(bias_gradient_.data() + first);
    }
  }

  // Columns f .. f + Count of dW: Count independent sums, so that the multiply-adds of one do
  // not wait for the previous one's result.
  template <int Count>
  void add_to_columns(const Batch (&logit_gradient)[width], const S* x, Index f, S* column) {
    Batch sum[Count];
    for (int i = 0; i < Count; ++i) {
      sum[i] = Batch::load_unaligned(column + (f + i) * padded_classes_);
    }
#pragma GCC unroll 16
    for (Index lane = 0; lane < width; ++lane) {
      for (int i = 0; i < Count; ++i) {
        sum[i] = xsimd::fma(logit_gradient[lane], Batch(x[(f + i) * width + lane]), sum[i]);
      }
    }
    for (int i = 0; i < Count; ++i) {
      sum[i].store_unaligned(column + (f + i) * padded_classes_);
    }
  }

  const SamplePanels<S>& x_;
  Index features_, samples_ = 0, classes_, padded_classes_;
  std::vector<Index> active_;  // the panels summed over
  Vector<S> labels_;      // per sample of the layout, as a number; -1 for the last panel's padding
  Vector<S> logits_;      // classes x width: a panel's logits, exponentials, then gradients
  Vector<S> transposed_;  // width x padded classes: one panel's logit gradients
  Matrix<S> weight_gradient_;  // padded classes x features
  Vector<S> bias_gradient_;    // padded classes
  Vector<S> difference_;       // two classes: w1 - w0
  Vector<S> binary_sums_;      // two classes: (features + 1) x width partial sums of the gradient
};

}  // namespace uinfo::simd
