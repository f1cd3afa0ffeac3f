// Activation storage whose capacity only grows, so that a training step allocates nothing once
// the largest batch has been seen, and a smaller last batch reuses the same memory.
#pragma once

#include "uinfo/core/tensor.hpp"

namespace uinfo {

template <class Scalar>
class Buffer {
 public:
  // A rows x cols view of the storage, growing it if needed; previous contents are not kept.
  MatrixView<Scalar> reshape(Index rows, Index cols) {
    if (rows * cols > storage_.size()) storage_.resize(rows * cols);
    rows_ = rows;
    cols_ = cols;
    return view();
  }

  MatrixView<Scalar> view() { return {storage_.data(), rows_, cols_}; }
  ConstMatrixView<Scalar> view() const { return {storage_.data(), rows_, cols_}; }

  Index rows() const { return rows_; }
  Index cols() const { return cols_; }

 private:
  Vector<Scalar> storage_;
  Index rows_ = 0;
  Index cols_ = 0;
};

}  // namespace uinfo
