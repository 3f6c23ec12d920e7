# Install rules, the CMake package config other projects find us by, and the
# Debian package (CPack). Included from the top-level CMakeLists.txt.
#
# Layout under the prefix:
#   bin/grpc-leak-tidy, bin/grpc-leak-clangd
#   <libdir>/grpc-leak-tidy/grpc-leak-tidy-plugin.so
#   <libdir>/cmake/GrpcLeakTidy/GrpcLeakTidyConfig*.cmake
#   share/doc/grpc-leak-tidy/{README.md, docs..., examples/}
#   share/grpc-leak-tidy/ci/ (the CI scripts of docs/ci.md), .../bazel/
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(GRPCLEAK_INSTALL_PLUGINDIR "${CMAKE_INSTALL_LIBDIR}/grpc-leak-tidy")
set(GRPCLEAK_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/GrpcLeakTidy")

# The binaries link libclang-cpp, which Debian keeps only in the LLVM tree
# (not on the loader's default path): keep that directory as the run path.
# Clang's resource directory is found at run time (tools/DriverSupport.cpp),
# so the binaries work from any prefix.
set_target_properties(grpc-leak-tidy grpc-leak-clangd grpc-leak-tidy-plugin PROPERTIES
  INSTALL_RPATH "${LLVM_LIBRARY_DIR}")

install(TARGETS grpc-leak-tidy grpc-leak-clangd
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT tools)
install(TARGETS grpc-leak-tidy-plugin
  LIBRARY DESTINATION "${GRPCLEAK_INSTALL_PLUGINDIR}" COMPONENT tools)

install(FILES README.md DESTINATION "${CMAKE_INSTALL_DOCDIR}" COMPONENT tools)
install(DIRECTORY docs/ DESTINATION "${CMAKE_INSTALL_DOCDIR}/docs" COMPONENT tools)
# The example service, buildable on its own (examples/CMakeLists.txt): what
# the package's users can point the tool at first.
install(DIRECTORY examples/incident examples/fixed examples/backend examples/proto
  DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples" COMPONENT tools)
install(FILES examples/CMakeLists.txt examples/README.md examples/.clang-tidy
  DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples" COMPONENT tools)

# The CI recipes' scripts (docs/ci.md) and the Bazel aspect.
install(PROGRAMS scripts/grpc-leak-ci.py scripts/grpc-leak-report.py scripts/merge-sarif.py scripts/shard-compdb.py
                 scripts/grpc-leak-tidy-sarif
  DESTINATION "${CMAKE_INSTALL_DATADIR}/grpc-leak-tidy/ci" COMPONENT tools)
install(DIRECTORY bazel/ DESTINATION "${CMAKE_INSTALL_DATADIR}/grpc-leak-tidy/bazel" COMPONENT tools)

# find_package(GrpcLeakTidy CONFIG) gives the paths of the three forms and
# imported targets for them; see cmake/GrpcLeakTidyConfig.cmake.in.
configure_package_config_file(cmake/GrpcLeakTidyConfig.cmake.in
  "${PROJECT_BINARY_DIR}/GrpcLeakTidyConfig.cmake"
  INSTALL_DESTINATION "${GRPCLEAK_INSTALL_CMAKEDIR}"
  PATH_VARS CMAKE_INSTALL_BINDIR GRPCLEAK_INSTALL_PLUGINDIR CMAKE_INSTALL_DOCDIR)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/GrpcLeakTidyConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/GrpcLeakTidyConfig.cmake"
              "${PROJECT_BINARY_DIR}/GrpcLeakTidyConfigVersion.cmake"
  DESTINATION "${GRPCLEAK_INSTALL_CMAKEDIR}" COMPONENT tools)

# The Debian package: `cpack -G DEB` in the build directory (or the `package`
# target). Library dependencies come from dpkg-shlibdeps (package dpkg-dev);
# the rest is what the tools need at run time but do not link.
set(CPACK_PACKAGE_NAME "grpc-leak-tidy")
set(CPACK_PACKAGE_VENDOR "grpc-leak-tidy developers")
set(CPACK_PACKAGE_CONTACT "grpc-leak-tidy developers <grpc-leak-tidy@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "clang-tidy checks for gRPC C++ leaks and hangs")
set(CPACK_PACKAGE_DESCRIPTION
  "grpc-leak-tidy (clang-tidy with the grpc-leak-* checks built in), grpc-leak-clangd \
(clangd with them) and a plugin for clang-tidy-${LLVM_VERSION_MAJOR} --load: they find gRPC \
handles that are never released, streaming RPCs without deadlines, and channels \
created per loop iteration or per request.")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR "DEB")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "devel")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Clang's builtin headers (the resource directory the tools parse with).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libclang-common-${LLVM_VERSION_MAJOR}-dev")
# The plugin is loaded by stock clang-tidy; the checks analyse gRPC code.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "clang-tidy-${LLVM_VERSION_MAJOR}, libgrpc++-dev")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "protobuf-compiler-grpc")
include(CPack)
