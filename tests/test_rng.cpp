#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>
#include <vector>

#include "uinfo/core/rng.hpp"

using uinfo::Engine;
using uinfo::Rng;
using uinfo::Stream;

TEST_CASE("one seed gives the same stream, other seeds, streams and indices differ", "[rng]") {
  Engine a = Rng{42}.engine(Stream::init, 3);
  Engine b = Rng{42}.engine(Stream::init, 3);
  Engine other_seed = Rng{43}.engine(Stream::init, 3);
  Engine other_stream = Rng{42}.engine(Stream::shuffle, 3);
  Engine other_index = Rng{42}.engine(Stream::init, 4);
  int equal_elsewhere = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a();
    REQUIRE(x == b());
    equal_elsewhere += (x == other_seed()) + (x == other_stream()) + (x == other_index());
  }
  CHECK(equal_elsewhere == 0);
}

TEST_CASE("uniform and normal draws have the right moments", "[rng]") {
  Engine engine = Rng{7}.engine(Stream::user);
  const int n = 200000;
  double sum = 0, sum_sq = 0, normal_sum = 0, normal_sq = 0, normal_fourth = 0;
  for (int i = 0; i < n; ++i) {
    const double u = engine.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
    sum_sq += u * u;
    const double z = engine.normal();
    normal_sum += z;
    normal_sq += z * z;
    normal_fourth += z * z * z * z;
  }
  // Tolerances are about 5 standard errors of each estimate.
  CHECK(sum / n == Approx(0.5).margin(5 * 0.289 / std::sqrt(n)));
  CHECK(sum_sq / n - (sum / n) * (sum / n) == Approx(1.0 / 12).margin(0.002));
  CHECK(normal_sum / n == Approx(0.0).margin(5 / std::sqrt(n)));
  CHECK(normal_sq / n == Approx(1.0).margin(5 * std::sqrt(2.0 / n)));
  CHECK(normal_fourth / n == Approx(3.0).margin(0.1));
}

TEST_CASE("below(n) is uniform over 0..n-1 and shuffle permutes", "[rng]") {
  Engine engine = Rng{9}.engine(Stream::user);
  std::vector<int> counts(7, 0);
  const int n = 70000;
  for (int i = 0; i < n; ++i) ++counts[engine.below(7)];
  for (int c : counts) CHECK(c == Approx(n / 7.0).margin(5 * std::sqrt(n / 7.0)));

  std::vector<int> items(100);
  std::iota(items.begin(), items.end(), 0);
  auto shuffled = items;
  engine.shuffle(std::span(shuffled));
  CHECK(shuffled != items);
  std::sort(shuffled.begin(), shuffled.end());
  CHECK(shuffled == items);
}

TEST_CASE("an engine rebuilt from its state continues the same stream", "[rng]") {
  Engine original = Rng{7}.engine(Stream::dropout, 2);
  for (int i = 0; i < 5; ++i) original();
  const double first_normal = original.normal();  // leaves the second Box-Muller draw in hand
  const Engine::State state = original.state();
  REQUIRE(state.has_spare);
  REQUIRE(Engine::valid(state));
  Engine rebuilt(state);
  CHECK(rebuilt == original);
  CHECK(rebuilt.normal() == original.normal());  // the spare, not a fresh pair
  for (int i = 0; i < 100; ++i) REQUIRE(rebuilt() == original());
  CHECK(first_normal != 0.0);

  // No engine reaches the all-zero state, or keeps a NaN in hand: neither is one to restore.
  CHECK_FALSE(Engine::valid(Engine::State{}));
  Engine::State nan_spare = state;
  nan_spare.spare = std::nan("");
  CHECK_FALSE(Engine::valid(nan_spare));
  nan_spare.has_spare = false;
  CHECK(Engine::valid(nan_spare));  // a spare not in hand is never read
}
