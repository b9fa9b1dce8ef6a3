# SPDX-License-Identifier: Apache-2.0
# Target api_docs: the HTML API reference of the public headers (cmake/Doxyfile.in), written to
# <build>/api_docs/html/index.html. Not part of the default build; it fails on any Doxygen warning,
# e.g. a public declaration without a doc comment.
set(MLFLOW_CPP_API_DOCS_DIR ${PROJECT_BINARY_DIR}/api_docs)
find_package(Doxygen QUIET)
if(DOXYGEN_FOUND)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/Doxyfile.in ${MLFLOW_CPP_API_DOCS_DIR}/Doxyfile @ONLY)
  add_custom_target(api_docs
    COMMAND Doxygen::doxygen ${MLFLOW_CPP_API_DOCS_DIR}/Doxyfile
    WORKING_DIRECTORY ${MLFLOW_CPP_API_DOCS_DIR}
    COMMENT "Doxygen: API reference in ${MLFLOW_CPP_API_DOCS_DIR}/html/index.html"
    VERBATIM)
else()
  add_custom_target(api_docs
    COMMAND ${CMAKE_COMMAND} -E echo "api_docs: doxygen not found (apt-get install doxygen)"
    COMMAND ${CMAKE_COMMAND} -E false
    VERBATIM)
endif()
