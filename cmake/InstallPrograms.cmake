# Run at install time (install(SCRIPT) from cmake/Install.cmake), after server/, agent/ and
# coordinator/ installed their executables into bin/ under their build-tree names: moves each to
# PKGLIBDIR/NAME and links BINDIR/connscale-NAME to it (relative, so an install under a root
# directory, dpkg-deb -x or DESTDIR, still resolves inside it). install_manifest.txt lists the
# new paths, not the moved ones.
#
# Set by the install(CODE) before it: CONNSCALE_PROGRAMS, CONNSCALE_TARGETS_BINDIR,
# CONNSCALE_INSTALL_BINDIR, CONNSCALE_INSTALL_PKGLIBDIR, CONNSCALE_BIN_TO_PKGLIB.

set(root "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
file(MAKE_DIRECTORY "${root}/${CONNSCALE_INSTALL_PKGLIBDIR}" "${root}/${CONNSCALE_INSTALL_BINDIR}")
foreach(prog ${CONNSCALE_PROGRAMS})
  set(built "${root}/${CONNSCALE_TARGETS_BINDIR}/${prog}")
  set(moved "${root}/${CONNSCALE_INSTALL_PKGLIBDIR}/${prog}")
  set(link "${root}/${CONNSCALE_INSTALL_BINDIR}/connscale-${prog}")
  if(NOT EXISTS "${built}" OR IS_SYMLINK "${built}")
    message(FATAL_ERROR "connscale install: ${built} is missing: ${prog}/CMakeLists.txt was "
      "expected to install it (install(TARGETS ${prog} RUNTIME DESTINATION bin)); "
      "cmake/InstallPrograms.cmake moves it to ${moved}")
  endif()
  message(STATUS "Moving: ${built} -> ${moved}")
  file(RENAME "${built}" "${moved}")
  message(STATUS "Linking: ${link} -> ${CONNSCALE_BIN_TO_PKGLIB}/${prog}")
  file(REMOVE "${link}")
  file(CREATE_LINK "${CONNSCALE_BIN_TO_PKGLIB}/${prog}" "${link}" SYMBOLIC)
  list(REMOVE_ITEM CMAKE_INSTALL_MANIFEST_FILES "${built}")
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${moved}" "${link}")
endforeach()
