# SPDX-License-Identifier: Apache-2.0
# Helpers that give every mlflow-cpp target the same flags, names and install layout.

# MLFLOW_CPP_SANITIZE: ASan and UBSan go together; TSan cannot be combined with ASan.
set_property(CACHE MLFLOW_CPP_SANITIZE PROPERTY STRINGS "" "address,undefined" "address" "undefined" "thread")
if(MLFLOW_CPP_SANITIZE AND NOT MLFLOW_CPP_SANITIZE MATCHES "^(address,undefined|undefined,address|address|undefined|thread)$")
  message(FATAL_ERROR "MLFLOW_CPP_SANITIZE='${MLFLOW_CPP_SANITIZE}': use '', 'address,undefined', 'address', "
    "'undefined' or 'thread'")
endif()

# Warnings and sanitizers, per target (never global).
function(mlflow_target_flags target)
  # C++17 everywhere, also for targets that link none of the libraries (clang defaults to C++14).
  target_compile_features(${target} PRIVATE cxx_std_17)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
  if(MLFLOW_CPP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(MLFLOW_CPP_SANITIZE)
    # -fno-sanitize-recover=all: a UBSan finding ends the process (and fails its test) instead of scrolling by.
    target_compile_options(${target} PRIVATE
      -fsanitize=${MLFLOW_CPP_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=${MLFLOW_CPP_SANITIZE})
  endif()
endfunction()

# For what gets installed: debug info and __FILE__ name sources as mlflow-cpp/..., so no installed
# file names this checkout (in gdb: set substitute-path mlflow-cpp /path/to/checkout).
function(mlflow_installed_flags target)
  target_compile_options(${target} PRIVATE -ffile-prefix-map=${PROJECT_SOURCE_DIR}=mlflow-cpp)
endfunction()

# mlflow_add_library(name [INSTALL [OPTIONAL_COMPONENT]] SOURCES ...): target mlflow_<name>, alias
# mlflow::<name>, exported as <name>. INSTALL puts it and its include/ folder into the installed CMake
# package; OPTIONAL_COMPONENT gives it an export file of its own, loaded only when a consumer asks for
# the component (for libraries with heavy dependencies, e.g. LibTorch).
function(mlflow_add_library name)
  cmake_parse_arguments(ARG "INSTALL;OPTIONAL_COMPONENT" "" "SOURCES" ${ARGN})
  add_library(mlflow_${name} ${ARG_SOURCES})
  add_library(mlflow::${name} ALIAS mlflow_${name})
  # SOVERSION major.minor while the version is 0.x, where a minor release may break the ABI.
  set_target_properties(mlflow_${name} PROPERTIES EXPORT_NAME ${name} POSITION_INDEPENDENT_CODE ON
    VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
  target_compile_features(mlflow_${name} PUBLIC cxx_std_17)
  target_include_directories(mlflow_${name}
    PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  mlflow_target_flags(mlflow_${name})
  mlflow_installed_flags(mlflow_${name})
  if(ARG_INSTALL)
    if(ARG_OPTIONAL_COMPONENT)
      set_property(GLOBAL APPEND PROPERTY MLFLOW_CPP_OPTIONAL_LIBRARIES ${name})
    else()
      set_property(GLOBAL APPEND PROPERTY MLFLOW_CPP_LIBRARIES mlflow_${name})
    endif()
    set_property(GLOBAL APPEND PROPERTY MLFLOW_CPP_INCLUDE_DIRS ${CMAKE_CURRENT_SOURCE_DIR}/include/)
  endif()
endfunction()

# mlflow_add_app(name [NO_INSTALL] SOURCES ... LIBS ...): an executable, installed unless NO_INSTALL
# (benchmarks and other programs for this repository only).
function(mlflow_add_app name)
  cmake_parse_arguments(ARG "NO_INSTALL" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS})
  mlflow_target_flags(${name})
  if(NOT ARG_NO_INSTALL)
    mlflow_installed_flags(${name})
    set_property(GLOBAL APPEND PROPERTY MLFLOW_CPP_APPS ${name})
  endif()
endfunction()
