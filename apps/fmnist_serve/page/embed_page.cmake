# SPDX-License-Identifier: Apache-2.0
# cmake -DINPUT=page/index.html -DOUTPUT=page.cpp -P embed_page.cmake
# Writes a C++ source defining mlflow::serve::index_page() (core/page.h) as the bytes of INPUT.
# Every byte becomes a character literal '\xHH', so any content (quotes, backslashes, ")",
# non-ASCII UTF-8, NUL) survives, and no string-literal length limit applies.
foreach(var INPUT OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_page.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${INPUT}")
  message(FATAL_ERROR "embed_page.cmake: ${INPUT} does not exist")
endif()
file(READ "${INPUT}" hex HEX)
if(hex STREQUAL "")
  message(FATAL_ERROR "embed_page.cmake: ${INPUT} is empty")
endif()
string(LENGTH "${hex}" digits)
math(EXPR size "${digits} / 2")
# 16 bytes a line: "'\xHH', " each.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1', " bytes "${hex}")
string(REPEAT "'\\\\x[0-9a-f][0-9a-f]', " 16 line)
string(REGEX REPLACE "(${line})" "\\1\n    " bytes "${bytes}")
string(REPLACE ", \n" ",\n" bytes "${bytes}")
string(STRIP "${bytes}" bytes)
get_filename_component(name "${INPUT}" NAME)
file(WRITE "${OUTPUT}" "// Generated from apps/fmnist_serve/page/${name} by embed_page.cmake: edit that file instead.
#include \"page.h\"

namespace mlflow::serve {
namespace {
// ${size} bytes.
constexpr char kIndexPage[] = {
    ${bytes}
};
}  // namespace

std::string_view index_page() { return {kIndexPage, sizeof kIndexPage}; }

}  // namespace mlflow::serve
")
