// Minimum description length of a probe (Voita & Titov 2020, "Information-Theoretic Probing with
// Minimum Description Length"), by the online (prequential) code: the labels are sent in blocks of
// growing size, the first with the uniform code (log2 K bits each), every later one with the code
// of a decoder trained on all the samples sent before it. The online codelength is the sum of
// -log2 p(y | z) over those blocks; a representation that makes the labels easy to learn from few
// samples compresses them well (compression = n log2 K / online codelength, about 1 when Z says
// nothing about Y, and below 1 when the decoder overfits noise).
//
//   auto code = mdl_codelength(z, labels, LinearDecoder<float>{});
//   code.online_bits, code.compression, code.blocks (start, size, bits of each)
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/info/decoder.hpp"
#include "uinfo/info/samples.hpp"
#include "uinfo/info/usable_information.hpp"

namespace uinfo {

struct MdlOptions {
  // Where the blocks end, in percent of the samples: strictly increasing, the last 100.
  std::vector<double> block_ends_percent{0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.25, 12.5, 25, 50, 100};
  // Boundaries that would train a decoder on fewer samples are dropped, so their samples join the
  // uniformly coded first block: a decoder fitted to one sample predicts nothing honestly, and
  // MlpDecoder needs 2 to carve its validation split. At least 2.
  Index min_training_samples = 2;
  Index classes = 0;       // K; 0: 1 + the largest label
  std::uint64_t seed = 0;  // the order of the samples and every decoder fit
};

// Samples [start, start + size) of the shuffled order, sent with the code of a decoder trained on
// samples [0, start); the first block (start 0) is sent with the uniform code.
struct MdlBlock {
  Index start = 0;
  Index size = 0;
  double bits = 0;
};

struct MdlCodelength {
  double online_bits = 0;
  double uniform_bits = 0;  // n log2 K
  double compression = 0;   // uniform_bits / online_bits
  std::vector<MdlBlock> blocks;
  Index n = 0, classes = 0;
  std::string decoder;
};

namespace detail {

// The end of every block for n samples, after dropping boundaries below the minimum training size
// and repeats (small n rounds several percentages to one sample count).
inline std::vector<Index> mdl_block_ends(Index n, const MdlOptions& options) {
  const auto& percents = options.block_ends_percent;
  require_option(!percents.empty() && percents.front() > 0 && percents.back() == 100,
                 "mdl_codelength: block_ends_percent must be positive and end at 100");
  for (std::size_t i = 1; i < percents.size(); ++i) {
    require_option(percents[i] > percents[i - 1],
                   "mdl_codelength: block_ends_percent must increase strictly, but entry " +
                       std::to_string(i) + " does not");
  }
  require_option(options.min_training_samples >= 2,
                 "mdl_codelength: min_training_samples is " +
                     std::to_string(options.min_training_samples) + "; expected at least 2");
  std::vector<Index> ends;
  for (const double percent : percents) {
    // Rounded down, as Voita & Titov's int(n p / 100); the 1e-9 keeps e.g. 6.25% of 1600 at 100
    // whatever the rounding of the product.
    const auto end = static_cast<Index>(percent * static_cast<double>(n) / 100 + 1e-9);
    if (end < options.min_training_samples || (!ends.empty() && end <= ends.back())) continue;
    ends.push_back(end);
  }
  if (ends.empty()) ends.push_back(n);  // fewer samples than min_training_samples: all uniform
  return ends;
}

}  // namespace detail

// The online codelength of `labels` given `z` (features x samples) under the family of `decoder`.
// `decoder` is a prototype: one copy of it is fitted to each training prefix in turn, so with its
// warm_start option (the default) each block's decoder starts from the previous block's weights.
// The code stays valid, since every fit depends only on samples already sent; for the convex
// linear probe it only saves iterations, for the MLP it departs from the paper's fresh start per
// block (set warm_start = false to follow it). Pass an unfitted prototype: a warm-starting one
// fitted to these samples would start the first block from weights that have seen its labels.
template <Decoder D>
MdlCodelength mdl_codelength(const Matrix<typename D::scalar_type>& z,
                             std::span<const Label> labels, const D& decoder,
                             const MdlOptions& options = {}) {
  const Index n = z.cols();
  const Index classes =
      detail::require_labelled_samples(z, labels, options.classes, "mdl_codelength");
  require_option(classes >= 2, "mdl_codelength: the labels name " + std::to_string(classes) +
                                   " class; expected at least 2 for a code to mean anything");
  const std::vector<Index> ends = detail::mdl_block_ends(n, options);
  const std::vector<Index> order = detail::shuffled_indices(n, options.seed);
  const auto [data, y] = detail::take_samples(z, labels, order);
  const std::span<const Label> ys(y);

  MdlCodelength result;
  result.n = n;
  result.classes = classes;
  result.decoder = decoder.name();
  const double uniform_bits_per_label = std::log2(static_cast<double>(classes));
  result.uniform_bits = static_cast<double>(n) * uniform_bits_per_label;
  result.blocks.push_back(
      {0, ends.front(), static_cast<double>(ends.front()) * uniform_bits_per_label});

  D model = decoder;
  const UsableInformationOptions fit_options{.classes = classes, .seed = options.seed};
  for (std::size_t b = 1; b < ends.size(); ++b) {
    const Index start = ends[b - 1], size = ends[b] - ends[b - 1];
    // usable_information standardises by the prefix alone and reports the block's mean
    // cross-entropy, in bits: times its size, the block's codelength.
    const UsableInformation block = usable_information(
        data.leftCols(start), ys.first(static_cast<std::size_t>(start)),
        data.middleCols(start, size),
        ys.subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(size)), model,
        fit_options);
    result.blocks.push_back({start, size, block.ce_bits * static_cast<double>(size)});
  }
  for (const MdlBlock& block : result.blocks) result.online_bits += block.bits;
  result.compression = result.uniform_bits / result.online_bits;
  return result;
}

}  // namespace uinfo
