# Install layout, shared by `make install PREFIX=...` (cmake --install) and the Debian package
# (cpack, cmake/Packaging.cmake). Paths are GNUInstallDirs' relative ones, so the prefix (and
# cpack's /usr) decides where they land.
#
#   BINDIR/connscale-{server,agent,coordinator}   what users and the units run: relative symlinks
#   lib/connscale/{server,agent,coordinator}      the executables, under their build-tree names
#   lib/connscale/connscale-service               runs the services where systemd is not PID 1
#   lib/systemd/system/connscale-{server,agent}.service
#   MANDIR/man1/connscale-*.1.gz, DOCDIR/README.md (and the package's copyright and changelog)
#
# Why the long names: /usr/bin/server and /usr/bin/agent would clash with anything else of that
# name. Why the executables sit in lib/connscale under their short names: the coordinator runs a
# plan's `local` section by starting its siblings, looked up next to /proc/self/exe by their
# short names (coordinator/local.c find_binary); a symlink in BINDIR keeps that working.
#
# Included by cmake/Packaging.cmake, after the components' directories: their own
# `install(TARGETS NAME RUNTIME DESTINATION bin)` (server/, agent/, coordinator/) runs first,
# and the rule below moves what it installed (stripped, under cpack) into place.
include(GNUInstallDirs)

# Not CMAKE_INSTALL_LIBDIR: on Debian that is lib/<triplet> for a /usr prefix, and this
# directory's path is part of the interface (the units, connscale-service, deploy/ use it).
set(CONNSCALE_INSTALL_PKGLIBDIR lib/connscale)
set(CONNSCALE_INSTALL_UNITDIR lib/systemd/system)
set(CONNSCALE_PROGRAMS server agent coordinator)
set(CONNSCALE_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/packaging)

# The link's target, relative to BINDIR (../lib/connscale/NAME for the default bin).
file(RELATIVE_PATH CONNSCALE_BIN_TO_PKGLIB
  /prefix/${CMAKE_INSTALL_BINDIR} /prefix/${CONNSCALE_INSTALL_PKGLIBDIR})

install(CODE "set(CONNSCALE_PROGRAMS \"${CONNSCALE_PROGRAMS}\")
set(CONNSCALE_TARGETS_BINDIR bin)
set(CONNSCALE_INSTALL_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
set(CONNSCALE_INSTALL_PKGLIBDIR \"${CONNSCALE_INSTALL_PKGLIBDIR}\")
set(CONNSCALE_BIN_TO_PKGLIB \"${CONNSCALE_BIN_TO_PKGLIB}\")")
install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/InstallPrograms.cmake)

install(PROGRAMS ${CONNSCALE_PACKAGING_DIR}/connscale-service
  DESTINATION ${CONNSCALE_INSTALL_PKGLIBDIR})
install(FILES
  ${CONNSCALE_PACKAGING_DIR}/systemd/connscale-server.service
  ${CONNSCALE_PACKAGING_DIR}/systemd/connscale-agent.service
  DESTINATION ${CONNSCALE_INSTALL_UNITDIR})
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Manual pages, compressed as Debian wants them (gzip -9n: no name or time stamp inside, so
# a rebuild makes the same bytes).
find_program(CONNSCALE_GZIP gzip REQUIRED)
set(CONNSCALE_MAN_GZ)
foreach(prog ${CONNSCALE_PROGRAMS})
  set(page ${CONNSCALE_PACKAGING_DIR}/man/connscale-${prog}.1)
  set(copy ${CMAKE_CURRENT_BINARY_DIR}/packaging/connscale-${prog}.1)
  add_custom_command(OUTPUT ${copy}.gz
    COMMAND ${CMAKE_COMMAND} -E copy ${page} ${copy}
    COMMAND ${CONNSCALE_GZIP} -9nf ${copy}
    DEPENDS ${page} VERBATIM)
  set(gz ${copy}.gz)
  list(APPEND CONNSCALE_MAN_GZ ${gz})
endforeach()
add_custom_target(connscale_man ALL DEPENDS ${CONNSCALE_MAN_GZ})
install(FILES ${CONNSCALE_MAN_GZ} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
