// Real: a floating-point number as a template argument, e.g. the rate of Dropout<0.5>.
//
// C++20 allows `template <double Rate>`, but Clang 14 (Debian 12's) does not implement it yet;
// a class holding the double is a structural type that both GCC and Clang take, and a literal
// such as 0.5 converts to it, so users write Dropout<0.5> either way.
#pragma once

namespace uinfo {

struct Real {
  double value;
  constexpr Real(double v) : value(v) {}  // NOLINT: implicit, so that Dropout<0.5> reads as it should
};

}  // namespace uinfo
