// Heap allocations during training, counted by replacing the global allocation functions.
//
// Counting operator new alone would miss most of what matters: Eigen allocates matrix storage
// and its GEMM workspace with std::malloc (Eigen::internal::aligned_malloc), never with new. So
// on glibc the C allocation functions are replaced too (forwarding to glibc's __libc_*
// entry points); operator new forwards to the same entry points, so nothing is counted twice.
#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include "uinfo/uinfo.hpp"

namespace {

struct Counter {
  std::atomic<std::int64_t> calls{0};
  std::atomic<std::int64_t> bytes{0};
  void note(std::size_t n) {
    calls.fetch_add(1, std::memory_order_relaxed);
    bytes.fetch_add(static_cast<std::int64_t>(n), std::memory_order_relaxed);
  }
};
Counter new_counter;     // operator new and new[], every variant
Counter malloc_counter;  // malloc, calloc, realloc and the aligned C functions

struct Counts {
  std::int64_t calls;
  std::int64_t bytes;
  Counts operator-(const Counts& o) const { return {calls - o.calls, bytes - o.bytes}; }
  bool operator==(const Counts&) const = default;
};

Counts counts_now() {
  return {new_counter.calls.load() + malloc_counter.calls.load(),
          new_counter.bytes.load() + malloc_counter.bytes.load()};
}

// Keeps the compiler from removing an allocation whose result is otherwise unused.
void* volatile sink = nullptr;

}  // namespace

// AddressSanitizer owns malloc: forwarding to glibc's own entry points would hand it blocks it
// never made, so a sanitized build counts operator new only.
#if defined(__SANITIZE_ADDRESS__)
#define UINFO_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UINFO_UNDER_ASAN 1
#endif
#endif

#if defined(__GLIBC__) && !defined(UINFO_UNDER_ASAN)
#define UINFO_COUNT_MALLOC 1
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) noexcept {
  malloc_counter.note(n);
  return __libc_malloc(n);
}
void* calloc(std::size_t count, std::size_t n) noexcept {
  malloc_counter.note(count * n);
  return __libc_calloc(count, n);
}
void* realloc(void* p, std::size_t n) noexcept {
  malloc_counter.note(n);
  return __libc_realloc(p, n);
}
void* memalign(std::size_t alignment, std::size_t n) noexcept {
  malloc_counter.note(n);
  return __libc_memalign(alignment, n);
}
void* aligned_alloc(std::size_t alignment, std::size_t n) noexcept {
  malloc_counter.note(n);
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t n) noexcept {
  malloc_counter.note(n);
  void* p = __libc_memalign(alignment, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
void free(void* p) noexcept {
  __libc_free(p);
}
}
namespace {
void* raw_allocate(std::size_t n) {
  return __libc_malloc(n ? n : 1);
}
void* raw_allocate(std::size_t n, std::align_val_t a) {
  return __libc_memalign(static_cast<std::size_t>(a), n ? n : 1);
}
void raw_free(void* p) {
  __libc_free(p);
}
}  // namespace
#else
#define UINFO_COUNT_MALLOC 0
namespace {
void* raw_allocate(std::size_t n) {
  return std::malloc(n ? n : 1);
}
void* raw_allocate(std::size_t n, std::align_val_t a) {
  const auto alignment = static_cast<std::size_t>(a);
  return std::aligned_alloc(alignment, (n + alignment - 1) / alignment * alignment);
}
void raw_free(void* p) {
  std::free(p);
}
}  // namespace
#endif

void* operator new(std::size_t n) {
  new_counter.note(n);
  if (void* p = raw_allocate(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  new_counter.note(n);
  return raw_allocate(n);
}
void* operator new[](std::size_t n, const std::nothrow_t& tag) noexcept {
  return operator new(n, tag);
}
void* operator new(std::size_t n, std::align_val_t a) {
  new_counter.note(n);
  if (void* p = raw_allocate(n, a)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return operator new(n, a);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  new_counter.note(n);
  return raw_allocate(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t& tag) noexcept {
  return operator new(n, a, tag);
}
void operator delete(void* p) noexcept {
  raw_free(p);
}
void operator delete[](void* p) noexcept {
  raw_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  raw_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  raw_free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  raw_free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  raw_free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  raw_free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  raw_free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  raw_free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  raw_free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  raw_free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  raw_free(p);
}

using namespace uinfo;

namespace {

using SmallNet = Sequential<float, Input<20>, Dense<32>, Relu, Dropout<0.2>, Dense<10>>;
using Mlp = Sequential<float, Input<784>, Dense<256>, Relu, Dense<128>, Relu, Dense<10>>;
using Cnn = Sequential<float, ImageInput<1, 28, 28>, Conv2d<8, 3, 1, 1>, Relu, MaxPool2d<2>,
                       Conv2d<16, 3, 1, 1>, Relu, MaxPool2d<2>, Flatten, Dense<10>>;
// Every image layer: strided convolution, BatchNorm per channel and per feature, both poolings.
using ImageLayers =
    Sequential<float, ImageInput<1, 28, 28>, Conv2d<8, 4, 2, 1>, BatchNorm, Relu, AvgPool2d<2>,
               Conv2d<16, 3, 1, 1>, MaxPool2d<3, 2>, GlobalAvgPool, BatchNorm, Dense<10>>;

// The 60 x 72 weights of its second convolution make it GEMMs over im2col blocks of 4 images
// (the first one is direct): 64 blocks at batch 256, and 22 in each epoch's last batch of 88.
using WideCnn = Sequential<float, ImageInput<1, 28, 28>, Conv2d<8, 3, 1, 1>, MaxPool2d<2>,
                           Conv2d<60, 3, 1, 1>, Relu, GlobalAvgPool, Dense<10>>;
static_assert(WideCnn::layer_type<3>::block_images == 4);

// Residual blocks with identity and projection shortcuts, of tiled convolutions without bias.
template <Index Out, Index Stride = 1>
using BareConv = Conv2d<Out, 3, Stride, 1, he_normal, Bias::none>;
using ResNet = Sequential<float, ImageInput<1, 28, 28>, BareConv<16>, BatchNorm, Relu,
                          Residual<BareConv<16>, BatchNorm, Relu, BareConv<16>, BatchNorm>, Relu,
                          Residual<BareConv<32, 2>, BatchNorm, Relu, BareConv<32>, BatchNorm>, Relu,
                          GlobalAvgPool, Dense<10>>;

Dataset<float> random_data(Index features, Index samples) {
  Engine engine = Rng{17}.engine(Stream::data);
  Dataset<float> data{Matrix<float>(features, samples),
                      std::vector<Label>(static_cast<std::size_t>(samples))};
  for (Index i = 0; i < data.x.size(); ++i) data.x.data()[i] = engine.normal<float>();
  for (auto& label : data.labels) label = static_cast<Label>(engine.below(10));
  return data;
}

struct StepAllocations {
  Index global_step;
  Index batch_size;
  Counts allocated;  // since the previous step's end: one whole step (and any epoch boundary)
};

// Trains 2 epochs of 600 samples and returns what each step from global step 1 on allocated.
// 600 = 18 * 32 + 24 = 2 * 256 + 88: both batch sizes end each epoch with a smaller batch.
// `extra` is another callback, run before the counter's snapshot (so within its step).
template <class Net, class Optimizer, class Extra>
std::vector<StepAllocations> allocations_per_step(Optimizer optimizer, Index batch_size,
                                                  Extra extra) {
  const Dataset<float> data = random_data(Net::input_size, 600);
  Net net{Rng{1}};
  struct Snapshot {
    Index global_step, batch_size;
    Counts at_end;
  };
  std::vector<Snapshot> snapshots;
  snapshots.reserve(100);  // more than the steps, so recording allocates nothing
  auto record = on_step_end([&](const StepInfo& info, Net&) {
    snapshots.push_back({info.global_step, info.batch_size, counts_now()});
  });
  fit(net, optimizer, SoftmaxCrossEntropy{}, data, {.epochs = 2, .batch_size = batch_size}, extra,
      record);
  REQUIRE(snapshots.size() == static_cast<std::size_t>(2 * ((600 + batch_size - 1) / batch_size)));
  std::vector<StepAllocations> steps;
  for (std::size_t k = 1; k < snapshots.size(); ++k) {
    steps.push_back({snapshots[k].global_step, snapshots[k].batch_size,
                     snapshots[k].at_end - snapshots[k - 1].at_end});
  }
  return steps;
}

template <class Net, class Optimizer>
std::vector<StepAllocations> allocations_per_step(Optimizer optimizer, Index batch_size) {
  return allocations_per_step<Net>(std::move(optimizer), batch_size,
                                   on_step_end([](auto&, auto&) {}));
}

// One check over all steps, naming the first step that allocated.
void check_no_allocations(const std::vector<StepAllocations>& steps) {
  std::int64_t total_calls = 0, total_bytes = 0;
  const StepAllocations* first = nullptr;
  for (const auto& s : steps) {
    total_calls += s.allocated.calls;
    total_bytes += s.allocated.bytes;
    if (!first && s.allocated.calls != 0) first = &s;
  }
  INFO("over " << steps.size() << " steps: " << total_calls << " calls, " << total_bytes
               << " bytes; the first at global step " << (first ? first->global_step : -1)
               << " (batch " << (first ? first->batch_size : 0) << ")");
  CHECK(total_calls == 0);
}

Sgd momentum_sgd() {
  return Sgd({.lr = 0.01, .momentum = 0.9});
}
Adam adam() {
  return Adam({.lr = 1e-3});
}

}  // namespace

TEST_CASE("the counter sees every kind of allocation", "[allocation]") {
  const auto allocated = [](auto allocate) {
    const Counts before = counts_now();
    allocate();
    return (counts_now() - before).calls;
  };
  CHECK(allocated([] {
          sink = new int(1);
          delete static_cast<int*>(sink);
        }) == 1);
  CHECK(allocated([] {
          sink = new int[3];
          delete[] static_cast<int*>(sink);
        }) == 1);
  CHECK(allocated([] {
          sink = new (std::nothrow) double(1);
          delete static_cast<double*>(sink);
        }) == 1);
  CHECK(allocated([] {
          struct alignas(128) Wide {
            char c[128];
          };
          sink = new Wide;
          delete static_cast<Wide*>(sink);
        }) == 1);
  CHECK(allocated([] {
          std::vector<int> v(10);
          sink = v.data();
        }) == 1);
#if UINFO_COUNT_MALLOC
  CHECK(allocated([] {
          sink = std::malloc(8);
          std::free(sink);
        }) == 1);
  // Eigen's storage comes from malloc, not operator new.
  const Counts before_new{new_counter.calls.load(), new_counter.bytes.load()};
  CHECK(allocated([] {
          Matrix<float> m(64, 64);
          sink = m.data();
        }) == 1);
  CHECK(new_counter.calls.load() == before_new.calls);
#endif
}

TEST_CASE("a callback that allocates is detected", "[allocation]") {
  // The same small net and setup as below, where steps allocate nothing, plus one allocation
  // per step in a callback.
  auto allocating = on_step_end([](const StepInfo& info, SmallNet&) {
    std::vector<float> scratch(static_cast<std::size_t>(info.batch_size));
    sink = scratch.data();
  });
  const auto steps = allocations_per_step<SmallNet>(adam(), 32, allocating);
  for (const auto& s : steps) {
    INFO("global step " << s.global_step);
    CHECK(s.allocated.calls == 1);
    CHECK(s.allocated.bytes == static_cast<std::int64_t>(sizeof(float)) * s.batch_size);
  }
}

TEST_CASE("after the first step, a training step of a small net allocates nothing",
          "[allocation]") {
  // Through epoch boundaries (no validation set) and the smaller last batch of each epoch.
  SECTION("SGD with momentum, batch 32") {
    check_no_allocations(allocations_per_step<SmallNet>(momentum_sgd(), 32));
  }
  SECTION("SGD with momentum, batch 256") {
    check_no_allocations(allocations_per_step<SmallNet>(momentum_sgd(), 256));
  }
  SECTION("Adam, batch 32") {
    check_no_allocations(allocations_per_step<SmallNet>(adam(), 32));
  }
  SECTION("Adam, batch 256") {
    check_no_allocations(allocations_per_step<SmallNet>(adam(), 256));
  }
}

// Eigen's GEMM mallocs a packing workspace on every call once it exceeds 128 KiB, as the
// products with the 784-wide input layer do; uinfo::Product keeps that workspace between steps.
TEST_CASE("784-256-128-10 MLP: after the first step, a training step allocates nothing",
          "[allocation]") {
  SECTION("SGD with momentum, batch 32") {
    check_no_allocations(allocations_per_step<Mlp>(momentum_sgd(), 32));
  }
  SECTION("SGD with momentum, batch 256") {
    check_no_allocations(allocations_per_step<Mlp>(momentum_sgd(), 256));
  }
  SECTION("Adam, batch 32") {
    check_no_allocations(allocations_per_step<Mlp>(adam(), 32));
  }
  SECTION("Adam, batch 256") {
    check_no_allocations(allocations_per_step<Mlp>(adam(), 256));
  }
}

// A direct convolution's padded images are sized at construction; an im2col convolution's block
// matrix is a Buffer and its GEMM workspaces are Products, as Dense's; a tiled convolution's padded
// images are Buffers and its transposed weights sized at construction; BatchNorm's per-channel
// vectors are sized at construction; a residual block's sums and gradients are Buffers.
TEST_CASE("CNN: after the first step, a training step allocates nothing", "[allocation][image]") {
  SECTION("SGD with momentum, batch 32") {
    check_no_allocations(allocations_per_step<Cnn>(momentum_sgd(), 32));
  }
  SECTION("SGD with momentum, batch 256") {
    check_no_allocations(allocations_per_step<Cnn>(momentum_sgd(), 256));
  }
  SECTION("Adam, batch 32") {
    check_no_allocations(allocations_per_step<Cnn>(adam(), 32));
  }
  SECTION("every image layer, SGD with momentum, batch 32") {
    check_no_allocations(allocations_per_step<ImageLayers>(momentum_sgd(), 32));
  }
  SECTION("every image layer, Adam, batch 256") {
    check_no_allocations(allocations_per_step<ImageLayers>(adam(), 256));
  }
  SECTION("a convolution by im2col blocks, SGD with momentum, batch 256") {
    check_no_allocations(allocations_per_step<WideCnn>(momentum_sgd(), 256));
  }
  SECTION("a convolution by im2col blocks, Adam, batch 32") {
    check_no_allocations(allocations_per_step<WideCnn>(adam(), 32));
  }
  SECTION("residual blocks, SGD with momentum, batch 32") {
    check_no_allocations(allocations_per_step<ResNet>(momentum_sgd(), 32));
  }
  SECTION("residual blocks, Adam, batch 256") {
    check_no_allocations(allocations_per_step<ResNet>(adam(), 256));
  }
}

namespace {

// Trials of random length: the first update's batch is the longest (max_steps), every later one
// is max_steps long or shorter, and its trials' lengths vary within it (padding). Inputs N(0, 1),
// targets U(0, 1), every real step scored.
struct ShrinkingTrials {
  Index inputs_ = 4, outputs_ = 2, min_steps = 5, max_steps = 30;
  mutable bool first = true;
  Index inputs() const { return inputs_; }
  Index outputs() const { return outputs_; }
  void draw(Engine& engine, Index trials, SequenceBatch<float>& batch) const {
    const auto span = [&](Index low, Index high) {
      return low + static_cast<Index>(engine.below(static_cast<std::uint64_t>(high - low + 1)));
    };
    const Index steps = first ? max_steps : span(min_steps, max_steps);
    first = false;
    batch.reset(inputs_, outputs_, steps, trials);
    for (Index b = 0; b < trials; ++b) {
      const Index length = b == 0 ? steps : span(1, steps);
      batch.lengths()[static_cast<std::size_t>(b)] = length;
      for (Index t = 0; t < length; ++t) {
        const Index column = batch.column(t, b);
        for (Index c = 0; c < inputs_; ++c) batch.x()(c, column) = engine.normal<float>();
        for (Index o = 0; o < outputs_; ++o)
          batch.target_values()(o, column) = engine.uniform<float>();
        batch.mask().col(column).setOnes();
      }
    }
  }
};

// What each update after the first allocated, from the end of the one before.
template <class Net, class Loss>
std::vector<Counts> allocations_per_update(Net& net, const Loss& loss,
                                           const TaskFitOptions& options) {
  std::vector<Counts> at_end;
  at_end.reserve(static_cast<std::size_t>(options.updates));  // recording allocates nothing
  Adam optimizer({.lr = 1e-3});
  fit_task(net, optimizer, loss, ShrinkingTrials{}, options,
           every_n_updates(1, [&](const UpdateInfo&, Net&) { at_end.push_back(counts_now()); }));
  REQUIRE(at_end.size() == static_cast<std::size_t>(options.updates));
  std::vector<Counts> updates;
  for (std::size_t k = 1; k < at_end.size(); ++k) updates.push_back(at_end[k] - at_end[k - 1]);
  return updates;
}

void check_no_allocations(const std::vector<Counts>& updates) {
  std::int64_t calls = 0, bytes = 0, first = -1;
  for (std::size_t k = 0; k < updates.size(); ++k) {
    calls += updates[k].calls;
    bytes += updates[k].bytes;
    if (first < 0 && updates[k].calls != 0) first = static_cast<std::int64_t>(k + 1);
  }
  INFO("over " << updates.size() << " updates: " << calls << " calls, " << bytes
               << " bytes; the first in update " << first);
  CHECK(calls == 0);
}

}  // namespace

// The recurrent products lay out their weights at every forward pass (simd/block_sparse.hpp) in
// storage sized by the first; a shorter batch reuses the longest one's buffers.
TEST_CASE("recurrent networks: after the first update, a training update allocates nothing",
          "[allocation][recurrent]") {
  const TaskFitOptions options{.updates = 12,
                               .batch_size = 20,
                               .rng = Rng{3},
                               .clip_norm = 0.1,
                               .weight_penalty = {.coefficient = 1e-3}};
  SECTION("the multi-area network: Dale's law, masks, noise, a readout at every step") {
    using Net = Sequential<float, Input<4>, LeakyRnn<300>, Dense<2>>;
    Net net{Rng{1}};
    Engine init = Rng{1}.engine(Stream::user);
    MultiAreaCircuit({}).build(net.layer<1>(), net.layer<2>(), init);
    auto rnn_options = net.layer<1>().options();
    rnn_options.recurrent_noise = 0.05;
    rnn_options.input_noise = {0, 0, 0.1, 0.1};
    rnn_options.rate_l2 = 1e-3;
    net.layer<1>().configure(rnn_options);
    check_no_allocations(allocations_per_update(net, MeanSquaredError{}, options));
  }
  SECTION("an Elman network, truncated BPTT") {
    using Net = Sequential<float, Input<4>, ElmanRnn<100>, Dense<2>>;
    Net net{Rng{2}};
    auto truncated = options;
    truncated.truncation = 7;
    check_no_allocations(allocations_per_update(net, MeanSquaredError{}, truncated));
  }
  SECTION("an LSTM") {
    using Net = Sequential<float, Input<4>, Lstm<40>, Dense<2>>;
    Net net{Rng{3}};
    check_no_allocations(allocations_per_update(net, MeanSquaredError{}, options));
  }
}
