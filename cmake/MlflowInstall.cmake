# SPDX-License-Identifier: Apache-2.0
# Installs the libraries, headers, apps and a relocatable CMake package: find_package(mlflow_cpp CONFIG).
include(CMakePackageConfigHelpers)

get_property(libs GLOBAL PROPERTY MLFLOW_CPP_LIBRARIES)
get_property(apps GLOBAL PROPERTY MLFLOW_CPP_APPS)
install(TARGETS ${libs} EXPORT mlflow_cppTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(apps)
  install(TARGETS ${apps} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
get_property(include_dirs GLOBAL PROPERTY MLFLOW_CPP_INCLUDE_DIRS)
install(DIRECTORY ${include_dirs} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/mlflow_cpp)
install(EXPORT mlflow_cppTargets NAMESPACE mlflow:: DESTINATION ${config_dir})
export(EXPORT mlflow_cppTargets NAMESPACE mlflow:: FILE ${PROJECT_BINARY_DIR}/mlflow_cppTargets.cmake)
# Optional components: one export file each (mlflow_cpp-<name>Targets.cmake), loaded on request.
get_property(optional_libs GLOBAL PROPERTY MLFLOW_CPP_OPTIONAL_LIBRARIES)
foreach(name IN LISTS optional_libs)
  install(TARGETS mlflow_${name} EXPORT mlflow_cpp-${name}Targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(EXPORT mlflow_cpp-${name}Targets NAMESPACE mlflow:: DESTINATION ${config_dir})
endforeach()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/mlflow_cppConfig.cmake.in
  ${PROJECT_BINARY_DIR}/mlflow_cppConfig.cmake INSTALL_DESTINATION ${config_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mlflow_cppConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)  # 0.x: a minor release may break the API
install(FILES ${PROJECT_BINARY_DIR}/mlflow_cppConfig.cmake ${PROJECT_BINARY_DIR}/mlflow_cppConfigVersion.cmake
  DESTINATION ${config_dir})
