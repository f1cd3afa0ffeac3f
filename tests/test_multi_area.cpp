// The multi-area circuit builder: the anatomy of the reference model (areas, E/I, feed-forward and
// feedback links, masks), its initialisation, and Dale's law in a network built from it.
#include <catch2/catch.hpp>

#include <uinfo/uinfo.hpp>

#include <set>

using namespace uinfo;

namespace {

// Connections from the units of `from` to the units of `to`.
double links(const Matrix<double>& mask, const std::vector<Index>& to,
             const std::vector<Index>& from) {
  double sum = 0;
  for (const Index r : to)
    for (const Index c : from) sum += mask(r, c);
  return sum;
}

}  // namespace

TEST_CASE("the multi-area circuit has the reference anatomy", "[multi_area]") {
  const MultiAreaCircuit circuit({});
  const Matrix<double>& mask = circuit.recurrent_mask();
  REQUIRE(circuit.areas() == 3);
  // Units: E 0-239, then I 240-299; area a = E [80a, 80a+80) and I [240+20a, 260+20a).
  CHECK(circuit.excitatory(1).front() == 80);
  CHECK(circuit.excitatory(1).back() == 159);
  CHECK(circuit.inhibitory(2).front() == 280);
  CHECK(circuit.area_units(0).size() == 100);
  CHECK(circuit.signs().head(240).minCoeff() == 1);
  CHECK(circuit.signs().tail(60).maxCoeff() == -1);
  CHECK(mask.diagonal().isZero());
  for (Index a = 0; a < 3; ++a) {
    const auto units = circuit.area_units(a);
    CHECK(links(mask, units, units) == 100 * 99);  // all to all within an area
    for (Index b = 0; b < 3; ++b) {
      if (b == a) continue;
      // Between areas only E -> E, and only between neighbours.
      CHECK(links(mask, circuit.inhibitory(b), circuit.area_units(a)) == 0);
      CHECK(links(mask, circuit.area_units(b), circuit.inhibitory(a)) == 0);
      if (std::abs(a - b) > 1)
        CHECK(links(mask, circuit.area_units(b), circuit.area_units(a)) == 0);
    }
  }
  // Feed-forward ~ 0.1 and feedback ~ 0.05 of 6,400 pairs: within 5 binomial sds.
  for (Index a = 0; a + 1 < 3; ++a) {
    const double ff = links(mask, circuit.excitatory(a + 1), circuit.excitatory(a));
    const double fb = links(mask, circuit.excitatory(a), circuit.excitatory(a + 1));
    CHECK(ff == Approx(640).margin(5 * std::sqrt(6400 * 0.1 * 0.9)));
    CHECK(fb == Approx(320).margin(5 * std::sqrt(6400 * 0.05 * 0.95)));
  }
  const double density = mask.sum() / (300.0 * 300.0);
  CHECK(density == Approx(0.35).margin(0.01));  // dense blocks per area plus sparse links
  // The same anatomy for every network seed; another mask seed, another anatomy.
  CHECK(MultiAreaCircuit({}).recurrent_mask() == mask);
  CHECK(MultiAreaCircuit({.mask_seed = 7}).recurrent_mask() != mask);
  // Rows of the initial scales have unit norm; I rows weigh I inputs by 80 / 19.
  CHECK(circuit.recurrent_scale().rowwise().norm().minCoeff() == Approx(1));
  const auto& scale = circuit.recurrent_scale();
  CHECK(scale(250, 241) / scale(250, 0) == Approx(80.0 / 19));
  CHECK(scale(5, 241) / scale(5, 1) == Approx(79.0 / 20));
  // Inputs reach area 1 (E and I); outputs read area 3's E units.
  CHECK(circuit.input_mask().sum() == 100 * 4);
  CHECK(circuit.input_mask().row(241).sum() == 4);
  CHECK(circuit.output_mask().row(0).segment(160, 80).sum() == 80);
  CHECK(circuit.output_mask().sum() == 160);
  // E -> I feed-forward is a variant.
  const MultiAreaCircuit ffi({.feedforward_inhibitory = 0.2});
  CHECK(links(ffi.recurrent_mask(), ffi.inhibitory(1), ffi.excitatory(0)) > 0);
  // Other sizes split the E and I lists into equal parts.
  const MultiAreaCircuit two({.areas = 2});
  CHECK(two.excitatory(1).front() == 120);
  CHECK(two.inhibitory(1).front() == 270);
  CHECK_THROWS_WITH(MultiAreaCircuit({.areas = 7}), Catch::Contains("divisible"));
}

TEST_CASE("a network built from the circuit starts at the spectral radius and obeys Dale's law",
          "[multi_area]") {
  using Net = Sequential<float, Input<4>, LeakyRnn<300>, Dense<2>>;
  Net net{Rng{1}};
  const MultiAreaCircuit circuit({});
  Engine init = Rng{1}.engine(Stream::user);
  circuit.build(net.layer<1>(), net.layer<2>(), init);
  const auto& rnn = net.layer<1>();
  const Matrix<double> effective = rnn.effective_recurrent_weight().cast<double>();
  CHECK(MultiAreaCircuit::spectral_radius(effective) == Approx(1.5).epsilon(1e-4));
  CHECK((effective.array() != 0).cast<double>().matrix() == circuit.recurrent_mask());
  for (Index j = 0; j < 300; ++j) {
    if (j < 240) CHECK(effective.col(j).minCoeff() >= 0);
    if (j >= 240) CHECK(effective.col(j).maxCoeff() <= 0);
  }
  CHECK(rnn.recurrent_weight().plastic.cast<double>() == circuit.recurrent_mask());
  CHECK(net.layer<2>().weight().plastic.cast<double>() == circuit.output_mask());
  CHECK(rnn.initial_state().value.isConstant(0.1f));
  // The untrained network explodes, as the reference's does, but stays finite over 280 steps.
  Matrix<float> x = Matrix<float>::Ones(4, 280 * 2);
  const auto z = net.forward(x, Timeline{280, 2, {}, 0});
  CHECK(z.allFinite());
  CHECK(z.cwiseAbs().maxCoeff() > 1e3f);
  Sequential<float, Input<3>, LeakyRnn<300>, Dense<2>> three_inputs{Rng{1}};
  CHECK_THROWS_WITH(circuit.build(three_inputs.layer<1>(), three_inputs.layer<2>(), init),
                    Catch::Contains("the circuit has 4 inputs"));
}
