// Lower-case hexadecimal digits for bytes: the one encoder behind records, nft names and escaped text.
#pragma once

#include <string>
#include <string_view>

namespace nsrun {

// Appends the two digits of `byte` to `out`.
void append_hex(std::string& out, unsigned char byte);

// Two digits per byte, no separator.
std::string hex_of(std::string_view bytes);

}  // namespace nsrun
