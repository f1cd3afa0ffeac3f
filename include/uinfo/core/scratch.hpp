// Scratch<T>: storage that an object keeps between calls only so as not to allocate it again. It
// is not part of the object's state: a copy starts with an empty one, a move takes it along.
#pragma once

namespace uinfo {

template <class T>
struct Scratch {
  T value{};

  Scratch() = default;
  Scratch(const Scratch&) {}
  Scratch& operator=(const Scratch&) { return *this; }
  Scratch(Scratch&&) noexcept = default;
  Scratch& operator=(Scratch&&) noexcept = default;
  ~Scratch() = default;
};

}  // namespace uinfo
