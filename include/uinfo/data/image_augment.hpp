// Image transformations for training: seeded augmentation of minibatches (random crops and
// horizontal flips, as CIFAR networks are usually trained) and the blur of the critical-period
// experiments (Achille, Rovere & Soatto 2019: downsample 4x and upsample back).
//
// Images are columns in HWC order (core/shape.hpp).
//
//   Engine engine = Rng{seed}.engine(Stream::augment);
//   fit(net, sgd, loss, ImageBatches<float>{&train.x, &train.labels, {3, 32, 32}, &engine},
//       options);
#pragma once

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/core/shape.hpp"
#include "uinfo/data/dataset.hpp"

namespace uinfo {

// Labelled images for fit(), referenced rather than copied (several runs, or the coarse and fine
// labels of one run, share one matrix of images), whose minibatches may be augmented as they are
// gathered. With an `engine`, each image is shifted by a uniform whole number of pixels in
// [-padding, padding] along each axis, the pixels shifted in from outside being zero (a random
// crop of the image zero-padded by `padding`, as large as the image), and mirrored left to right
// with probability 1/2 if `flip`; the draws come from the engine in the order the samples are
// gathered, so a seeded engine fixes every batch. Without one, batches hold the images as they
// are.
template <Scalar S>
struct ImageBatches {
  const Matrix<S>* x;                // features x images, HWC
  const std::vector<Label>* labels;  // one per image
  Shape shape;
  Engine* engine = nullptr;  // null: no augmentation
  Index padding = 4;
  bool flip = true;

  Index size() const { return x->cols(); }

  void validate(Index inputs, Index classes, const std::string& name) const {
    Dataset<S>::require_shape(*x, inputs, name);
    if (static_cast<Index>(labels->size()) != size()) {
      throw InvalidArgument("uinfo: " + name + " has " + std::to_string(size()) + " images but " +
                            std::to_string(labels->size()) +
                            " labels; expected one label per image");
    }
    require_labels_in_range(*labels, classes, name + " labels");
    if (shape.size() != inputs || padding < 0) {
      throw InvalidArgument("uinfo::ImageBatches: " + name + " holds " + to_string(shape) +
                            " images padded by " + std::to_string(padding) +
                            "; expected images of " + std::to_string(inputs) +
                            " features and a padding of 0 or more");
    }
  }

  class Batch {
   public:
    void gather(const ImageBatches& images, std::span<const Index> indices) {
      const Shape shape = images.shape;
      auto x = x_.reshape(shape.size(), static_cast<Index>(indices.size()));
      labels_.resize(indices.size());
      const auto shifts = static_cast<std::uint64_t>(2 * images.padding + 1);
      for (std::size_t j = 0; j < indices.size(); ++j) {
        labels_[j] = (*images.labels)[static_cast<std::size_t>(indices[j])];
        const S* source = images.x->col(indices[j]).data();
        S* out = x.col(static_cast<Index>(j)).data();
        if (!images.engine) {
          std::copy_n(source, shape.size(), out);
          continue;
        }
        Engine& engine = *images.engine;
        const Index dy = static_cast<Index>(engine.below(shifts)) - images.padding;
        const Index dx = static_cast<Index>(engine.below(shifts)) - images.padding;
        const bool mirror = images.flip && engine.below(2) == 1;
        for (Index h = 0; h < shape.height; ++h) {
          for (Index w = 0; w < shape.width; ++w) {
            const Index from_h = h + dy;
            const Index from_w = (mirror ? shape.width - 1 - w : w) + dx;
            S* pixel = out + (h * shape.width + w) * shape.channels;
            if (from_h < 0 || from_h >= shape.height || from_w < 0 || from_w >= shape.width) {
              std::fill_n(pixel, shape.channels, S(0));
            } else {
              std::copy_n(source + (from_h * shape.width + from_w) * shape.channels, shape.channels,
                          pixel);
            }
          }
        }
      }
    }
    ConstMatrixView<S> x() const { return x_.view(); }
    std::span<const Label> targets() const { return labels_; }

   private:
    Buffer<S> x_;
    std::vector<Label> labels_;
  };
};

// Blurs every image of x in place by averaging each factor x factor block of pixels (a 4x
// downsampling for factor 4) and interpolating the small image back bilinearly to its size, as
// PyTorch's F.interpolate(mode="bilinear", align_corners=False) does; every channel alone.
// Throws InvalidArgument unless the factor divides the height and width.
template <Scalar S>
void blur_by_downsampling(Matrix<S>& x, Shape shape, Index factor) {
  if (factor < 1 || shape.height % factor != 0 || shape.width % factor != 0 ||
      x.rows() != shape.size()) {
    throw InvalidArgument("uinfo::blur_by_downsampling: cannot downsample " +
                          std::to_string(x.rows()) + "-feature images as " + to_string(shape) +
                          " by " + std::to_string(factor) +
                          "; expected a factor of at least 1 that divides the height and width");
  }
  const Index small_h = shape.height / factor, small_w = shape.width / factor;
  const Index channels = shape.channels;
  Vector<S> small(small_h * small_w * channels);
  // Where output coordinate i falls between two small pixels: the lower one and the weight of
  // the upper, with half-pixel centres clamped at the edges.
  const auto source = [&](Index i, Index size, Index& low, S& weight) {
    const double at =
        std::max(0.0, (static_cast<double>(i) + 0.5) / static_cast<double>(factor) - 0.5);
    low = std::min(static_cast<Index>(at), size - 1);
    weight = low + 1 < size ? static_cast<S>(at - static_cast<double>(low)) : S(0);
  };
  for (Index j = 0; j < x.cols(); ++j) {
    S* image = x.col(j).data();
    small.setZero();
    for (Index h = 0; h < shape.height; ++h) {
      for (Index w = 0; w < shape.width; ++w) {
        for (Index c = 0; c < channels; ++c) {
          small(((h / factor) * small_w + w / factor) * channels + c) +=
              image[(h * shape.width + w) * channels + c];
        }
      }
    }
    small /= static_cast<S>(factor * factor);
    for (Index h = 0; h < shape.height; ++h) {
      Index top;
      S down;
      source(h, small_h, top, down);
      const Index bottom = std::min(top + 1, small_h - 1);
      for (Index w = 0; w < shape.width; ++w) {
        Index left;
        S right_weight;
        source(w, small_w, left, right_weight);
        const Index right = std::min(left + 1, small_w - 1);
        for (Index c = 0; c < channels; ++c) {
          const auto at = [&](Index sh, Index sw) {
            return small((sh * small_w + sw) * channels + c);
          };
          const S upper = at(top, left) + right_weight * (at(top, right) - at(top, left));
          const S lower = at(bottom, left) + right_weight * (at(bottom, right) - at(bottom, left));
          image[(h * shape.width + w) * channels + c] = upper + down * (lower - upper);
        }
      }
    }
  }
}

}  // namespace uinfo
