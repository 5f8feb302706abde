# For people who build on regain: `cmake --install`, find_package(regain), pkg-config, man
# pages, the Python module, and .deb packages (`make deb`, CPack).
#
# The installed library is shared (libregain.so.0.1, symbols versioned REGAIN_0_1, only
# REGAIN_API declarations exported): other projects can then share one copy and a security
# fix in a codec wrapper reaches them all with one package update. The C++ API passes STL
# types and will change while regain is 0.x, so the SONAME carries the minor version (0.2
# gets libregain.so.0.2, installable beside 0.1) and the CMake package only matches the same
# minor version. Sanitizer builds skip all of this.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS regain hdr-process RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)
install(FILES doc/man/regain.1 doc/man/hdr-process.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT cli)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT cli)

if(REGAIN_SANITIZE)
  return()
endif()

find_package(tl-expected CONFIG REQUIRED)
add_library(regain_shared SHARED $<TARGET_OBJECTS:regain_objects> $<TARGET_OBJECTS:regain_service_objects>)
add_library(regain::regain ALIAS regain_shared)
set_target_properties(regain_shared PROPERTIES OUTPUT_NAME regain EXPORT_NAME regain
                      VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
target_include_directories(regain_shared INTERFACE $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include>
                           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(regain_shared PRIVATE ${REGAIN_DEPS} PkgConfig::HTTPLIB PkgConfig::HIREDIS)
target_link_libraries(regain_shared INTERFACE nlohmann_json::nlohmann_json tl::expected)
target_link_options(regain_shared PRIVATE -Wl,--version-script=${CMAKE_SOURCE_DIR}/cmake/regain.map -Wl,--no-undefined)
set_property(TARGET regain_shared APPEND PROPERTY LINK_DEPENDS ${CMAKE_SOURCE_DIR}/cmake/regain.map)

install(TARGETS regain_shared EXPORT regainTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev NAMELINK_COMPONENT dev)
install(DIRECTORY include/regain DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
set(REGAIN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/regain)
install(EXPORT regainTargets NAMESPACE regain:: DESTINATION ${REGAIN_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(cmake/regainConfig.cmake.in ${CMAKE_BINARY_DIR}/regainConfig.cmake
                              INSTALL_DESTINATION ${REGAIN_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/regainConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/regainConfig.cmake ${CMAKE_BINARY_DIR}/regainConfigVersion.cmake
        DESTINATION ${REGAIN_CMAKE_DIR} COMPONENT dev)
# pkg-config: paths relative to the .pc file, so the installed tree can be moved (dpkg -x, a
# staging prefix) and still be used.
file(RELATIVE_PATH REGAIN_PC_PREFIX_FROM_PCDIR "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(cmake/regain.pc.in ${CMAKE_BINARY_DIR}/regain.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/regain.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# Python bindings (pybind11 from Debian): `import regain`, built when pybind11 is present.
if(EXISTS /usr/bin/python3 AND NOT PYTHON_EXECUTABLE)
  set(PYTHON_EXECUTABLE /usr/bin/python3)  # Debian's, which has numpy (not a user's pyenv)
endif()
find_package(pybind11 CONFIG QUIET)
if(pybind11_FOUND)
  pybind11_add_module(_regain python/regain_module.cpp)
  target_include_directories(_regain PRIVATE src)
  target_link_libraries(_regain PRIVATE regain_lib)
  set_target_properties(_regain PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/python/regain)
  configure_file(python/regain/__init__.py ${CMAKE_BINARY_DIR}/python/regain/__init__.py COPYONLY)
  set(REGAIN_PYTHON_DIR lib/python3/dist-packages CACHE STRING "Where `cmake --install` puts the regain Python package")
  install(TARGETS _regain LIBRARY DESTINATION ${REGAIN_PYTHON_DIR}/regain COMPONENT python)
  install(FILES python/regain/__init__.py DESTINATION ${REGAIN_PYTHON_DIR}/regain COMPONENT python)
  set(REGAIN_HAVE_PYTHON ON)
else()
  message(STATUS "pybind11 not found: no Python module")
endif()

# .deb packages: regain (CLI, service, man pages), libregain-dev (library, headers, CMake and
# pkg-config files), python3-regain. Run-time dependencies come from dpkg-shlibdeps.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME regain)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "regain")
set(CPACK_PACKAGE_CONTACT "regain developers <regain@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "put HDR back into photos: gain-map JPEG/HEIC/AVIF tools")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL cli dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION graphics)
set(CPACK_DEBIAN_CLI_PACKAGE_NAME regain)
set(CPACK_COMPONENT_CLI_DESCRIPTION "regain and hdr-process: inspect, decode, encode, repair gain-map photos; restore HDR to edited photos; the web service")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libregain-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "nlohmann-json3-dev, libexpected-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION "regain C++ library (libregain.so.0.1), headers, CMake package and pkg-config file")
if(REGAIN_HAVE_PYTHON)
  list(APPEND CPACK_COMPONENTS_ALL python)
  set(CPACK_DEBIAN_PYTHON_PACKAGE_NAME python3-regain)
  set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
  set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS "python3 (>= 3.11), python3 (<< 3.12), python3-numpy")
  set(CPACK_COMPONENT_PYTHON_DESCRIPTION "Python bindings for regain (import regain)")
endif()
include(CPack)

if(REGAIN_TESTS)
  get_filename_component(REGAIN_PKG_CORPUS "${CMAKE_SOURCE_DIR}/../shared/corpus" ABSOLUTE)
  # Install tree + consumer project (find_package and pkg-config) + the three .debs unpacked
  # into a throw-away root and used from there.
  add_test(NAME package COMMAND bash ${CMAKE_SOURCE_DIR}/tests/package/package_test.sh ${CMAKE_BINARY_DIR}
           ${REGAIN_PKG_CORPUS} ${CMAKE_BINARY_DIR}/test-tmp/package)
  set_tests_properties(package PROPERTIES TIMEOUT 900)
  if(REGAIN_HAVE_PYTHON)
    add_test(NAME python COMMAND ${PYTHON_EXECUTABLE} -m pytest -q -p no:cacheprovider ${CMAKE_SOURCE_DIR}/python/tests)
    set_tests_properties(python PROPERTIES TIMEOUT 900 ENVIRONMENT
      "PYTHONPATH=${CMAKE_BINARY_DIR}/python;REGAIN_CLI=$<TARGET_FILE:regain>;REGAIN_CORPUS=${REGAIN_PKG_CORPUS};REGAIN_README=${CMAKE_SOURCE_DIR}/README.md")
  endif()
endif()
