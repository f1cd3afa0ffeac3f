// CIFAR-10 and CIFAR-100 as data sets (on small files in the binary format, written here): where
// the batches are found, the superclass table and the groupings; and the image transformations of
// training: seeded crops and flips, and the critical-period blur.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "cifar_files.hpp"
#include "scratch_dir.hpp"
#include "uinfo/uinfo.hpp"

using namespace uinfo;
using Catch::Contains;

TEST_CASE("CIFAR-100's superclass table has 20 groups of 5 classes, as named", "[cifar]") {
  const LabelGrouping& superclasses = cifar100_superclasses();
  REQUIRE_NOTHROW(superclasses.validate());
  CHECK(superclasses.fine_classes() == 100);
  CHECK(superclasses.coarse_classes() == 20);
  for (const Index size : superclasses.group_sizes()) CHECK(size == 5);
  const auto superclass_of = [&](std::string_view fine) {
    const auto at = std::find(cifar100_classes.begin(), cifar100_classes.end(), fine);
    REQUIRE(at != cifar100_classes.end());
    return superclasses.groups[static_cast<std::size_t>(
        superclasses.group_of[static_cast<std::size_t>(at - cifar100_classes.begin())])];
  };
  CHECK(superclass_of("apple") == "fruit_and_vegetables");
  CHECK(superclass_of("whale") == "aquatic_mammals");
  CHECK(superclass_of("lawn_mower") == "vehicles_2");
  CHECK(superclass_of("pickup_truck") == "vehicles_1");
  CHECK(superclass_of("worm") == "non-insect_invertebrates");
  CHECK(superclass_of("maple_tree") == "trees");
}

TEST_CASE("CIFAR-10's groupings split vehicles from animals, and then each further", "[cifar]") {
  const std::vector<Label> all{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  CHECK(coarse_labels(all, cifar10_vehicles_animals()) ==
        std::vector<Label>{0, 0, 1, 1, 1, 1, 1, 1, 0, 0});
  const std::vector<Label> kinds = coarse_labels(all, cifar10_kinds());
  // Each kind lies within one side of vehicles_animals.
  for (std::size_t a = 0; a < all.size(); ++a) {
    for (std::size_t b = 0; b < all.size(); ++b) {
      if (kinds[a] == kinds[b]) {
        CHECK(cifar10_vehicles_animals().group_of[a] == cifar10_vehicles_animals().group_of[b]);
      }
    }
  }
  CHECK(cifar10_kinds().groups[static_cast<std::size_t>(kinds[3])] == "mammal");  // cat
  CHECK(cifar10_kinds().groups[static_cast<std::size_t>(kinds[1])] == "road_vehicle");
}

TEST_CASE("CIFAR-10's splits are read from the binary batches or the directory above them",
          "[cifar]") {
  const ScratchDir scratch("uinfo_test_cifar10_sets");
  cifar_files::write_cifar10(scratch.path / "cifar-10-batches-bin", 7, 13);
  for (const auto& dir : {scratch.path, scratch.path / "cifar-10-batches-bin"}) {
    const Dataset<float> train = load_cifar10<float>(Split::train, dir);
    const Dataset<float> test = load_cifar10<float>(Split::test, dir);
    CHECK(train.size() == 35);
    CHECK(test.size() == 13);
    CHECK(train.x.rows() == 3072);
    CHECK(train.labels[8] == 1);  // the second batch starts again at label 0
    CHECK(test.labels[12] == 2);
  }
}

TEST_CASE("CIFAR-100 is read with its fine labels and their superclasses", "[cifar]") {
  const ScratchDir scratch("uinfo_test_cifar100_sets");
  const auto& table = cifar100_superclasses().group_of;
  cifar_files::write_cifar100(scratch.path / "cifar-100-binary", 120, 30, table);
  const Cifar100<float> train = load_cifar100<float>(Split::train, scratch.path);
  CHECK(train.size() == 120);
  CHECK(train.fine[101] == 1);
  CHECK(train.coarse == coarse_labels(train.fine, cifar100_superclasses()));
  CHECK(load_cifar100<float>(Split::test, scratch.path).size() == 30);

  SECTION("a file whose coarse labels are not the superclasses is refused, naming the record") {
    std::vector<Label> wrong = table;
    wrong[2] = (wrong[2] + 1) % 20;  // baby is not among the people
    cifar_files::write_cifar100(scratch.path / "cifar-100-binary", 10, 10, wrong);
    CHECK_THROWS_AS(load_cifar100<float>(Split::train, scratch.path), IoError);
    CHECK_THROWS_WITH(load_cifar100<float>(Split::train, scratch.path),
                      Contains("train.bin") && Contains("record 2 has fine label 2 (baby)") &&
                          Contains("expected 14 (people)"));
  }
}

TEST_CASE("a missing CIFAR directory or batch is one error saying where the data comes from",
          "[cifar]") {
  const ScratchDir scratch("uinfo_test_cifar_missing");
  CHECK_THROWS_AS(load_cifar10<float>(Split::train, scratch.path / "nowhere"), IoError);
  CHECK_THROWS_WITH(load_cifar10<float>(Split::train, scratch.path / "nowhere"),
                    Contains("nowhere' does not exist") &&
                        Contains("https://www.cs.toronto.edu/~kriz/cifar.html") &&
                        Contains("cifar-10-binary.tar.gz"));
  CHECK_THROWS_WITH(load_cifar100<float>(Split::test, scratch.path),
                    Contains("holds neither test.bin nor cifar-100-binary/test.bin"));
  // A training batch missing beside the test batch: the reader names it.
  cifar_files::write_cifar10(scratch.path, 3, 3);
  std::filesystem::remove(scratch.path / "data_batch_4.bin");
  CHECK_THROWS_WITH(load_cifar10<float>(Split::train, scratch.path), Contains("data_batch_4.bin"));
  // A batch of the wrong length.
  cifar_files::write(scratch.path / "data_batch_4.bin", std::string(3073 * 2 + 5, '\0'));
  CHECK_THROWS_WITH(load_cifar10<float>(Split::train, scratch.path),
                    Contains("data_batch_4.bin") && Contains("not a multiple"));
}

namespace {

// Six 4x5 images of 2 channels, pixel (h, w, c) of image j holding 1 + j * 100 + h * 10 + w + c
// / 2.
Matrix<float> numbered_images() {
  Matrix<float> x(40, 6);
  for (Index j = 0; j < 6; ++j) {
    for (Index h = 0; h < 4; ++h) {
      for (Index w = 0; w < 5; ++w) {
        for (Index c = 0; c < 2; ++c) {
          x((h * 5 + w) * 2 + c, j) = static_cast<float>(1 + j * 100 + h * 10 + w) + 0.5f * c;
        }
      }
    }
  }
  return x;
}

}  // namespace

TEST_CASE("augmented batches are shifted and mirrored copies, fixed by the engine's seed",
          "[cifar][augment]") {
  const Matrix<float> x = numbered_images();
  const std::vector<Label> labels{0, 1, 2, 3, 4, 5};
  const Shape shape{2, 4, 5};
  const std::vector<Index> order{5, 0, 3, 3, 1, 2, 4, 0, 5, 1, 2, 3};
  const auto batch_of = [&](Engine* engine, Index padding = 2) {
    ImageBatches<float> images{&x, &labels, shape, engine, padding};
    images.validate(40, 6, "the images");
    ImageBatches<float>::Batch batch;
    batch.gather(images, order);
    CHECK(std::vector<Label>(batch.targets().begin(), batch.targets().end()) ==
          std::vector<Label>{5, 0, 3, 3, 1, 2, 4, 0, 5, 1, 2, 3});
    return Matrix<float>(batch.x());
  };
  CHECK(batch_of(nullptr) == x(Eigen::all, order));

  Engine a = Rng{1}.engine(Stream::augment), b = Rng{1}.engine(Stream::augment);
  const Matrix<float> augmented = batch_of(&a);
  CHECK(batch_of(&b) == augmented);
  // Every image is its source shifted by (dy, dx) in [-2, 2], maybe mirrored, zero outside.
  std::set<std::tuple<Index, Index, bool>> seen;
  for (Index j = 0; j < augmented.cols(); ++j) {
    bool found = false;
    for (Index dy = -2; dy <= 2 && !found; ++dy) {
      for (Index dx = -2; dx <= 2 && !found; ++dx) {
        for (const bool mirror : {false, true}) {
          bool same = true;
          for (Index h = 0; h < 4; ++h) {
            for (Index w = 0; w < 5; ++w) {
              const Index from_h = h + dy, from_w = (mirror ? 4 - w : w) + dx;
              const bool inside = from_h >= 0 && from_h < 4 && from_w >= 0 && from_w < 5;
              for (Index c = 0; c < 2; ++c) {
                const float expected =
                    inside ? x((from_h * 5 + from_w) * 2 + c, order[static_cast<std::size_t>(j)])
                           : 0.0f;
                same = same && augmented((h * 5 + w) * 2 + c, j) == expected;
              }
            }
          }
          if (same) {
            found = true;
            seen.insert({dy, dx, mirror});
            break;
          }
        }
      }
    }
    INFO("image " << j);
    CHECK(found);
  }
  CHECK(seen.size() > 6);  // twelve draws of 50 transformations: they vary
}

TEST_CASE("the blur averages 4x4 blocks and interpolates them back bilinearly", "[augment]") {
  SECTION("a constant image stays as it is") {
    Matrix<float> x = Matrix<float>::Constant(3 * 8 * 8, 2, 0.25f);
    blur_by_downsampling(x, Shape{3, 8, 8}, 4);
    CHECK((x.array() - 0.25f).abs().maxCoeff() < 1e-6f);
  }
  SECTION("a ramp along the width stays a ramp between the block centres") {
    // Block means of w + 0.5 lie at the centres 2 and 6 of 8 columns; bilinear interpolation
    // between them gives the ramp back there, and the edge values beyond them.
    Matrix<float> x(64, 1);
    for (Index h = 0; h < 8; ++h) {
      for (Index w = 0; w < 8; ++w) x(h * 8 + w, 0) = static_cast<float>(w) + 0.5f;
    }
    blur_by_downsampling(x, Shape{1, 8, 8}, 4);
    for (Index h = 0; h < 8; ++h) {
      for (Index w = 0; w < 8; ++w) {
        const float expected = std::clamp(static_cast<float>(w) + 0.5f, 2.0f, 6.0f);
        CHECK(x(h * 8 + w, 0) == Approx(expected));
      }
    }
  }
  SECTION("a factor that does not divide the image is refused") {
    Matrix<float> x = Matrix<float>::Zero(28 * 28, 1);
    CHECK_THROWS_WITH(blur_by_downsampling(x, Shape{1, 28, 28}, 3),
                      Contains("by 3") && Contains("divides the height and width"));
  }
}
