// Text in messages: numbers in the shortest form that reads back to the same value ("0.1", not
// "0.100000"), and bytes read from a file quoted so that a message stays printable.
#pragma once

#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>

namespace uinfo {

template <class T>
std::string shortest(T value) {
  char text[32];
  return std::string(text, std::to_chars(text, text + sizeof text, value).ptr);
}

// `text` as a message may quote it whatever the file held: printable ASCII kept, a backslash
// doubled, every other byte written \xNN (as Python's repr does), and anything beyond `limit`
// bytes cut off with "...". A mutated header never reaches a terminal as raw bytes.
inline std::string printable(std::string_view text, std::size_t limit = 200) {
  constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < limit; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '\\') {
      out += "\\\\";
    } else if (byte >= 0x20 && byte < 0x7f) {
      out += static_cast<char>(byte);
    } else {
      out += {'\\', 'x', digits[byte >> 4], digits[byte & 0xf]};
    }
  }
  return text.size() > limit ? out + "..." : out;
}

}  // namespace uinfo
