// A matrix laid out for products with a few columns at a time, skipping its zeros where they
// come in blocks: the recurrent weights of a multi-area network are dense within each area and
// sparse between areas, about 35% non-zero in all.
//
// The rows are cut into blocks of one vector (the last block ends at the last row, overlapping
// the one before it when the vector width does not divide the rows; the lanes it shares are zero
// in it). Each block keeps the columns where it has a non-zero entry, as runs of consecutive
// columns, and packs that column's vector of values after the previous one. A product then loads
// one packed vector per kept column and multiplies it by broadcast elements of the other operand,
// a register tile of columns at a time (as simd/gemm.hpp does for dense layers), with no index
// arithmetic inside a run. Every element is summed over its kept columns in ascending order,
// whatever the tiling, so results do not depend on the number of columns multiplied at once.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <utility>
#include <vector>

#include "uinfo/core/external.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo::simd {

// The vectors the recurrent kernels work in: the build's widest. (On AMD's Zen 4, whose cores
// split a 512-bit multiply-add in two, 256-bit blocks would skip more of a sparse matrix's zeros
// at the same multiply-adds per cycle, but a product then issues twice the loads and broadcasts
// per multiply-add: the multi-area products ran at 50% of the FMA peak instead of 76%.)
template <class S>
using RecurrentBatch = xsimd::batch<S>;

template <class S>
class BlockSparse {
 public:
  using Batch = RecurrentBatch<S>;
  static constexpr Index width = Batch::size;

  // Whether a matrix with this many rows can be laid out: at least one vector of them.
  static constexpr bool fits(Index rows) {
#ifdef UINFO_NO_SIMD
    (void)rows;
    return false;
#else
    return rows >= width;
#endif
  }

  // Lays out the rows x cols matrix whose entry (i, j) is value(i, j), keeping the entries where
  // present(i, j) (the others count as zero); with `pack` false, only the structure and its lanes
  // (a layout for results, e.g. a weight gradient). No allocation once a layout of this size has
  // been made.
  template <class Present, class Value>
  void assign(Index rows, Index cols, Present present, Value value, bool pack = true) {
    rows_ = rows;
    cols_ = cols;
    const Index blocks = (rows + width - 1) / width;
    reserve(blocks, cols);
    blocks_.clear();
    runs_.clear();
    lanes_.clear();
    values_.clear();
    for (Index b = 0; b < blocks; ++b) {
      const Index row = std::min(b * width, rows - width);
      const Index shared = b * width - row;  // lanes laid out by the block before
      Block block{row, shared, static_cast<Index>(runs_.size()), 0,
                  static_cast<Index>(lanes_.size())};
      for (Index j = 0; j < cols; ++j) {
        std::uint32_t mask = 0;
        for (Index l = shared; l < width; ++l) {
          if (present(row + l, j)) mask |= std::uint32_t{1} << l;
        }
        if (mask == 0) continue;
        if (!runs_.empty() && static_cast<Index>(runs_.size()) > block.first_run &&
            runs_.back().end == j) {
          ++runs_.back().end;
        } else {
          runs_.push_back({j, j + 1});
        }
        lanes_.push_back(mask);
        if (pack) {
          for (Index l = 0; l < width; ++l) {
            values_.push_back(mask >> l & 1 ? value(row + l, j) : S(0));
          }
        }
      }
      block.end_run = static_cast<Index>(runs_.size());
      blocks_.push_back(block);
    }
  }

  Index rows() const {
    return rows_;
  }
  Index cols() const {
    return cols_;
  }
  // Kept (block, column) pairs: each costs one vector multiply-add per column of a product.
  Index entries() const {
    return static_cast<Index>(lanes_.size());
  }

  // y (+)= M x for x with cols() rows (ldx apart) and y with rows() rows (ldy apart), both with
  // `columns` columns; `add`: add to y, else overwrite it.
  void multiply(const S* x, Index ldx, S* y, Index ldy, Index columns, bool add) {
    for_tiles(columns, [&]<int NC>(Index column) {
      // The tile's columns of x, interleaved (element j of every column, then j + 1, ...), so
      // that the broadcasts of a column of M read at fixed offsets from one pointer.
      S* panel = panel_.data();
      for (int c = 0; c < NC; ++c) {
        const S* from = x + (column + c) * ldx;
        for (Index j = 0; j < cols_; ++j) panel[j * NC + c] = from[j];
      }
      for (const Block& block : blocks_) {
        multiply_tile<NC>(block, panel, y + column * ldy, ldy, add);
      }
    });
  }

  // The layout's entries of g xᵀ (g: rows() x k, x: cols() x k, column-major with leading
  // dimensions ldg and ldx), summed over k in order, into `out`: width values per entry.
  void outer_products(const S* g, Index ldg, const S* x, Index ldx, Index k, S* out) const {
    // Over chunks of k, so that the chunk's g and x stay in L2 between the blocks that read them.
    const Index chunk = std::max<Index>(16, (Index{1} << 18) / (sizeof(S) * (rows_ + cols_)));
    for (Index first = 0; first < k; first += chunk) {
      const Index length = std::min(chunk, k - first);
      for (const Block& block : blocks_) {
        outer_products_block(block, g + first * ldg, ldg, x + first * ldx, ldx, length,
                             out + block.first_entry * width, first > 0);
      }
    }
  }

  // dense (rows() x cols(), column-major) = the laid-out entries of `entries` (width values per
  // entry, as outer_products writes them), 0 elsewhere; `add`: added to dense instead.
  void scatter(const S* entries, S* dense, bool add) const {
    if (!add) std::fill(dense, dense + rows_ * cols_, S(0));
    const S* value = entries;
    const std::uint32_t* lanes = lanes_.data();
    for (const Block& block : blocks_) {
      for (Index r = block.first_run; r < block.end_run; ++r) {
        for (Index j = runs_[r].begin; j < runs_[r].end; ++j, value += width, ++lanes) {
          S* column = dense + j * rows_ + block.row;
          for (Index l = 0; l < width; ++l) {
            if (*lanes >> l & 1) column[l] = add ? column[l] + value[l] : value[l];
          }
        }
      }
    }
  }

 private:
  struct Block {
    Index row;     // its first row
    Index shared;  // its first lanes, laid out by the block before
    Index first_run, end_run;
    Index first_entry;
  };
  struct Run {
    Index begin, end;  // columns
  };

  void reserve(Index blocks, Index cols) {
    const auto most = static_cast<std::size_t>(blocks * cols);
    blocks_.reserve(static_cast<std::size_t>(blocks));
    runs_.reserve(most);
    lanes_.reserve(most);
    values_.reserve(most * static_cast<std::size_t>(width));
    if (panel_.size() < static_cast<std::size_t>(widest_tile * cols)) {
      panel_.resize(static_cast<std::size_t>(widest_tile * cols));
    }
  }

  // The widest tile of columns: its sums and the packed column fill 25 of 32 vector registers.
  static constexpr int widest_tile = 24;

  // Calls tile.template operator()<NC>(first column) over the columns, cut into the fewest tiles
  // of at most widest_tile columns, of sizes that differ by at most one (20 trials: one tile; 32:
  // two of 16), so that every packed column of M serves as many multiply-adds as it can.
  template <class Tile>
  static void for_tiles(Index columns, Tile tile) {
    const Index tiles = (columns + widest_tile - 1) / widest_tile;
    for (Index k = 0, column = 0; k < tiles; ++k) {
      const Index size = (columns - column) / (tiles - k);  // the rest, shared evenly
      dispatch(size, [&]<int NC>() { tile.template operator()<NC>(column); });
      column += size;
    }
  }

  // f.template operator()<size>() for a size in 1 .. widest_tile.
  template <class F, int NC = 1>
  static void dispatch(Index size, F&& f) {
    if constexpr (NC < widest_tile) {
      if (size != NC) return dispatch<F, NC + 1>(size, std::forward<F>(f));
    }
    f.template operator()<NC>();
  }

  // One block's rows of NC columns of y (+)= M x, x as a panel (see multiply).
  template <int NC>
  void multiply_tile(const Block& block, const S* panel, S* y, Index ldy, bool add) const {
    Batch acc[NC];
    for (int c = 0; c < NC; ++c) {
      acc[c] = add ? Batch::load_unaligned(y + c * ldy + block.row) : Batch(S(0));
    }
    const S* w = values_.data() + block.first_entry * width;
    for (Index r = block.first_run; r < block.end_run; ++r) {
      const S* xj = panel + runs_[r].begin * NC;
      for (Index j = runs_[r].begin; j < runs_[r].end; ++j, w += width, xj += NC) {
        const Batch column = Batch::load_unaligned(w);
#pragma GCC unroll 24
        for (int c = 0; c < NC; ++c) acc[c] = xsimd::fma(column, Batch(xj[c]), acc[c]);
      }
    }
    store(block, acc, y, ldy);
  }

  template <int NC>
  static void store(const Block& block, const Batch (&acc)[NC], S* y, Index ldy) {
    if (block.shared == 0) {
      for (int c = 0; c < NC; ++c) acc[c].store_unaligned(y + c * ldy + block.row);
      return;
    }
    // The shared lanes keep what the block before stored there.
    alignas(64) S lanes[width];
    for (Index l = 0; l < width; ++l) lanes[l] = l < block.shared ? S(1) : S(0);
    const auto keep = Batch::load_aligned(lanes) != Batch(S(0));
    for (int c = 0; c < NC; ++c) {
      S* at = y + c * ldy + block.row;
      xsimd::select(keep, Batch::load_unaligned(at), acc[c]).store_unaligned(at);
    }
  }

  // The block's entries of g xᵀ over `length` columns of g and x, into `out` (or added to it).
  // Within a run, a tile sums windows of 16 or 8 consecutive columns, whose broadcasts read one
  // row of x at fixed offsets; the columns left over (the sparse links between areas leave
  // runs of one or two) are gathered into tiles of up to 8 columns read at their own offsets.
  void outer_products_block(const Block& block, const S* g, Index ldg, const S* x, Index ldx,
                            Index length, S* out, bool add) const {
    const Tile tile{g + block.row, ldg, x, ldx, length, add};
    S* entry = out;  // the next entry's values
    Index scattered[8];
    S* scattered_out[8];
    int pending = 0;
    auto flush = [&]<int NC>() {
      tile.template sum<NC>(scattered, scattered_out);
      pending -= NC;
      for (int c = 0; c < pending; ++c) {
        scattered[c] = scattered[c + NC];
        scattered_out[c] = scattered_out[c + NC];
      }
    };
    for (Index r = block.first_run; r < block.end_run; ++r) {
      Index j = runs_[r].begin;
      for (; j + 16 <= runs_[r].end; j += 16, entry += 16 * width)
        tile.template window<16>(j, entry);
      for (; j + 8 <= runs_[r].end; j += 8, entry += 8 * width) tile.template window<8>(j, entry);
      for (; j < runs_[r].end; ++j, entry += width) {
        scattered[pending] = j;
        scattered_out[pending++] = entry;
        if (pending == 8) flush.template operator()<8>();
      }
    }
    if (pending >= 4) flush.template operator()<4>();
    if (pending >= 2) flush.template operator()<2>();
    if (pending >= 1) flush.template operator()<1>();
  }

  // Sums of g xᵀ over a chunk of k for one block's rows (g points at its first row).
  struct Tile {
    const S* g;
    Index ldg;
    const S* x;
    Index ldx;
    Index length;
    bool add;  // to what `out` holds

    // Columns j .. j + NC - 1, into out (width values each, one after the other).
    template <int NC>
    void window(Index j, S* out) const {
      S* at[NC];
      for (int c = 0; c < NC; ++c) at[c] = out + c * width;
      run<NC>(
          x + j, [](const S* xk, int c) { return xk[c]; }, at);
    }

    // Columns columns[0 .. NC), into at[c].
    template <int NC>
    void sum(const Index* columns, S* const* at) const {
      Index offset[NC];
      for (int c = 0; c < NC; ++c) offset[c] = columns[c];
      run<NC>(
          x, [&](const S* xk, int c) { return xk[offset[c]]; }, at);
    }

    // The sums, with element(row k of x from the first column, c) the value of column c.
    template <int NC, class Element>
    void run(const S* xk, Element element, S* const* at) const {
      Batch acc[NC];
      for (int c = 0; c < NC; ++c) acc[c] = add ? Batch::load_unaligned(at[c]) : Batch(S(0));
      const S* gk = g;
      for (Index p = 0; p < length; ++p, gk += ldg, xk += ldx) {
        const Batch left = Batch::load_unaligned(gk);
#pragma GCC unroll 16
        for (int c = 0; c < NC; ++c) acc[c] = xsimd::fma(left, Batch(element(xk, c)), acc[c]);
      }
      for (int c = 0; c < NC; ++c) acc[c].store_unaligned(at[c]);
    }
  };

  Index rows_ = 0, cols_ = 0;
  std::vector<Block> blocks_;
  std::vector<Run> runs_;
  std::vector<std::uint32_t> lanes_;  // per entry: the lanes of its structure
  std::vector<S> values_;             // per entry: width values
  std::vector<S> panel_;              // a tile's columns of the other operand (multiply)
};

}  // namespace uinfo::simd
