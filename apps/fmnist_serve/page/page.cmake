# SPDX-License-Identifier: Apache-2.0
# GET /'s page, compiled into fmnist_serve_core: index.html becomes page.cpp, defining
# mlflow::serve::index_page() (core/page.h), regenerated whenever index.html changes. Included by
# apps/fmnist_serve/CMakeLists.txt rather than added as a subdirectory: a generated source must be
# produced in the directory of the target that compiles it (CMake policy CMP0118).
set(fmnist_serve_page_cpp ${CMAKE_CURRENT_BINARY_DIR}/page.cpp)
add_custom_command(OUTPUT ${fmnist_serve_page_cpp}
  COMMAND ${CMAKE_COMMAND} -DINPUT=${CMAKE_CURRENT_LIST_DIR}/index.html
    -DOUTPUT=${fmnist_serve_page_cpp} -P ${CMAKE_CURRENT_LIST_DIR}/embed_page.cmake
  DEPENDS ${CMAKE_CURRENT_LIST_DIR}/index.html ${CMAKE_CURRENT_LIST_DIR}/embed_page.cmake
  COMMENT "Embedding apps/fmnist_serve/page/index.html"
  VERBATIM)
target_sources(fmnist_serve_core PRIVATE ${fmnist_serve_page_cpp})
