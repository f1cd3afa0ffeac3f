// Conv2d's products as GEMMs over im2col matrices, a block of images at a time.
//
// im2col copies the patch under every window position of every image of a block into one column
// of a (k * k * Cin) x (Ho * Wo * images) matrix, rows in (kh, kw, c) order; the weight W is
// Cout x (k * k * Cin) in the same order, and W * columns is Cout x (Ho * Wo * images): channel
// fastest, then pixel, then image, which is exactly the block's HWC output (Cout * Ho * Wo) x
// images. Backward reads dy the same way: dW accumulates dy * columns^T over the blocks, and dx is
// col2im(W^T * dy), which adds every patch entry back onto the input value it was copied from.
//
// Why blocks: the im2col matrix is k * k times the input, 14 MB for 8x14x14 -> 16 at batch 256;
// over the whole batch it falls out of L2 between being written and being read by the GEMM, and
// the rate halves. A block's matrix stays in L2. Backward builds each block's matrix again rather
// than keeping the forward pass's: copying from the block's input costs less than reading back a
// matrix k * k times its size, and the buffer stays one block long.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/product.hpp"
#include "uinfo/core/shape.hpp"
#include "uinfo/layers/window.hpp"

namespace uinfo {

template <Scalar S, Shape In, Index OutChannels, Index Kernel, Index Stride, Index Padding>
class Im2colConvolution {
  using Geometry = Window<In, Kernel, Stride, Padding>;
  static constexpr Index patch = Kernel * Kernel * In.channels;  // rows of the im2col matrix
  static constexpr Index out_size = OutChannels * Geometry::out_pixels;
  // The im2col matrix of a block at most this large. On the 2 MiB L2 of the machine it was tuned
  // on, 128 to 512 KiB ran equally fast and 1 MiB slower (README); 256 KiB also leaves room in
  // the smaller L2 of other CPUs for the GEMM's packed operands and the block's x, y and dy.
  // A constant, so that how a batch is split, and the order in which the blocks' weight
  // gradients add up, never depends on the thread count.
  static constexpr std::size_t block_bytes = std::size_t{256} * 1024;
  static constexpr std::size_t image_bytes = sizeof(S) * patch * Geometry::out_pixels;

 public:
  // Images per block (the last block of a batch may be smaller); at least one.
  static constexpr Index block_images =
      std::max<Index>(1, static_cast<Index>(block_bytes / image_bytes));

  // y = weight * patches + bias (OutChannels values, or null for none) for every image of x.
  void forward(const Matrix<S>& weight, const S* bias, ConstMatrixView<S> x, MatrixView<S> y) {
    for_each_block(x.cols(), [&](Index first, Index images) {
      const ConstMatrixView<S> columns = im2col(x.data() + first * In.size(), images);
      MatrixView<S> y_block(y.data() + first * out_size, OutChannels, columns.cols());
      if (bias) {
        y_block.colwise() = Eigen::Map<const Vector<S>>(bias, OutChannels);
      } else {
        y_block.setZero();
      }
      forward_product_.template accumulate<Op::plain, Op::plain>(y_block, view(weight), columns);
    });
  }

  // weight_gradient = dy * patches^T summed over the blocks in order, and, if dx is given, the
  // gradient with respect to x.
  void backward(const Matrix<S>& weight, ConstMatrixView<S> x, ConstMatrixView<S> dy,
                MatrixView<S> weight_gradient, MatrixView<S>* dx) {
    weight_gradient.setZero();
    for_each_block(x.cols(), [&](Index first, Index images) {
      const ConstMatrixView<S> columns = im2col(x.data() + first * In.size(), images);
      const ConstMatrixView<S> dy_columns(dy.data() + first * out_size, OutChannels,
                                          columns.cols());
      weight_gradient_product_.template accumulate<Op::plain, Op::transposed>(weight_gradient,
                                                                              dy_columns, columns);
      if (!dx) return;
      // The block's columns are used up; its column gradient takes their place in the buffer.
      const MatrixView<S> column_gradient = columns_.reshape(patch, columns.cols());
      input_gradient_product_.template assign<Op::transposed, Op::plain>(column_gradient,
                                                                         view(weight), dy_columns);
      MatrixView<S> dx_block(dx->data() + first * In.size(), In.size(), images);
      dx_block.setZero();
      col2im(column_gradient.data(), images, dx_block.data());
    });
  }

 private:
  static ConstMatrixView<S> view(const Matrix<S>& m) { return {m.data(), m.rows(), m.cols()}; }

  // f(first image, images) for each block of the batch, in order.
  template <class F>
  static void for_each_block(Index batch, F&& f) {
    for (Index first = 0; first < batch; first += block_images) {
      f(first, std::min(block_images, batch - first));
    }
  }

  // One kernel row's values in a column; its length is known at compile time, so Eigen unrolls
  // and vectorises a whole run without the alignment checks of a run-time length.
  using Run = Eigen::Map<Eigen::Array<S, Geometry::run, 1>>;
  using ConstRun = Eigen::Map<const Eigen::Array<S, Geometry::run, 1>>;

  // The im2col matrix of `batch` images, in columns_. Column j holds kernel row kh at entries
  // [kh * run, (kh + 1) * run), contiguous in the image too (HWC): a window inside the image
  // copies each kernel row whole; at the border the row is zeroed and the part over the image
  // copied in.
  ConstMatrixView<S> im2col(const S* images, Index batch) {
    constexpr Index channels = In.channels;
    S* const columns = columns_.reshape(patch, Geometry::out_pixels * batch).data();
    const auto copy_row = [&](Index j, Index kh, const S* row, Index first, Index last) {
      S* out = columns + j * patch + kh * Geometry::run;
      if (first == 0 && last == Kernel) {
        Run{out} = ConstRun{row};
        return;
      }
      Run{out}.setZero();
      for (Index i = 0; i < (last - first) * channels; ++i) out[first * channels + i] = row[i];
    };
    Geometry::for_each_kernel_row(images, batch, copy_row);
    return std::as_const(columns_).view();
  }

  // The adjoint of im2col: every entry over the image is added to the value it was copied from
  // (windows overlap when Stride < Kernel); entries over the padding are dropped.
  static void col2im(const S* columns, Index batch, S* images) {
    constexpr Index channels = In.channels;
    const auto add_row = [&](Index j, Index kh, S* row, Index first, Index last) {
      const S* in = columns + j * patch + kh * Geometry::run;
      if (first == 0 && last == Kernel) {
        Run{row} += ConstRun{in};
        return;
      }
      for (Index i = 0; i < (last - first) * channels; ++i) row[i] += in[first * channels + i];
    };
    Geometry::for_each_kernel_row(images, batch, add_row);
  }

  Buffer<S> columns_;  // one block's im2col matrix, then its column gradient
  Product<S> forward_product_, weight_gradient_product_, input_gradient_product_;
};

}  // namespace uinfo
