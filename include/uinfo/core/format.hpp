// Numbers in text: the shortest form that reads back to the same value ("0.1", not "0.100000").
#pragma once

#include <charconv>
#include <string>

namespace uinfo {

template <class T>
std::string shortest(T value) {
  char text[32];
  return std::string(text, std::to_chars(text, text + sizeof text, value).ptr);
}

}  // namespace uinfo
