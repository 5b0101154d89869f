# Packaging: `make package` (cpack) builds one Debian package, connscale_VERSION-REVISION_ARCH.deb:
# connscale-server, connscale-agent and connscale-coordinator in /usr/bin (links to the executables
# in /usr/lib/connscale, see cmake/Install.cmake), systemd units for the server and the agent,
# /usr/lib/connscale/connscale-service (starts the same services where systemd is not PID 1),
# manual pages, and /usr/share/doc/connscale/{copyright,changelog.Debian.gz,README.md}.
# deploy/ (Ansible) installs this package on the load machines; see README "Deploy on real
# machines". tests/deploy/test_package.sh and test_lintian.sh check what it holds.

include(${CMAKE_CURRENT_LIST_DIR}/Install.cmake)

# Debian revision of this build of PROJECT_VERSION: a package with a revision is not "native",
# so its changelog is changelog.Debian.gz. Bump it (and add a packaging/changelog.Debian entry)
# when the packaging changes but the source does not.
set(CONNSCALE_DEB_REVISION 1)
set(CONNSCALE_DEB_VERSION ${PROJECT_VERSION}-${CONNSCALE_DEB_REVISION})
set(CONNSCALE_MAINTAINER "connscale maintainers <connscale@users.noreply.github.com>")

# Documentation every Debian package carries: the copyright file (DEP-5, as is) and the
# changelog (gzip -9n, with this version at its top: test_lintian.sh checks it matches).
set(CONNSCALE_PKG_DOC ${CMAKE_CURRENT_BINARY_DIR}/packaging/doc)
file(READ ${CONNSCALE_PACKAGING_DIR}/changelog.Debian CONNSCALE_CHANGELOG)
if(NOT CONNSCALE_CHANGELOG MATCHES "^connscale \\(${CONNSCALE_DEB_VERSION}\\) ")
  message(FATAL_ERROR "packaging/changelog.Debian: its first entry must be for "
    "${CONNSCALE_DEB_VERSION} (PROJECT_VERSION-CONNSCALE_DEB_REVISION, cmake/Packaging.cmake)")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${CONNSCALE_PACKAGING_DIR}/changelog.Debian)
add_custom_command(OUTPUT ${CONNSCALE_PKG_DOC}/changelog.Debian.gz
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CONNSCALE_PKG_DOC}
  COMMAND ${CMAKE_COMMAND} -E copy ${CONNSCALE_PACKAGING_DIR}/changelog.Debian
          ${CONNSCALE_PKG_DOC}/changelog.Debian
  COMMAND ${CONNSCALE_GZIP} -9nf ${CONNSCALE_PKG_DOC}/changelog.Debian
  DEPENDS ${CONNSCALE_PACKAGING_DIR}/changelog.Debian VERBATIM)
add_custom_target(connscale_changelog ALL DEPENDS ${CONNSCALE_PKG_DOC}/changelog.Debian.gz)
install(FILES ${CONNSCALE_PACKAGING_DIR}/copyright ${CONNSCALE_PKG_DOC}/changelog.Debian.gz
  DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The lintian tags that cannot be fixed, each with the reason (tests/deploy/test_lintian.sh).
install(FILES ${CONNSCALE_PACKAGING_DIR}/lintian-overrides
  DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides RENAME connscale)

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "connscale")
set(CPACK_PACKAGE_VENDOR "connscale")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_PACKAGE_RELEASE ${CONNSCALE_DEB_REVISION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "scaling test for thread-per-connection TCP servers")
# Lines of at most 80 columns (lintian); CPack indents each by one space.
set(CPACK_PACKAGE_DESCRIPTION
  "connscale opens tens of thousands of verified TCP echo connections against a\n\
thread-per-connection server from agents on several load machines, driven by a\n\
coordinator, and reports what each connection costs in user and kernel memory.\n\
.\n\
This package holds connscale-server, connscale-agent and connscale-coordinator,\n\
and systemd units for the server and the agent.")
set(CPACK_PACKAGE_CONTACT "${CONNSCALE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CONNSCALE_MAINTAINER}")
# Packages install under /usr; the units reference /usr/bin/connscale-server and -agent.
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# Depends from the binaries themselves (dpkg-shlibdeps): libc6, libzmq5 and libjansson4 at the
# versions this build links against, so dpkg refuses a host whose libraries are too old
# instead of installing binaries that then fail to start.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# postinst/prerm/postrm: tell systemd about the units, stop the services on removal
# (packaging/debian/*). Mode 0755 for scripts, 0644 for the rest, as dpkg-deb wants.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CONNSCALE_PACKAGING_DIR}/debian/postinst
  ${CONNSCALE_PACKAGING_DIR}/debian/prerm
  ${CONNSCALE_PACKAGING_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Release binaries: a package of a Debug tree would still work, just slower.
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_GENERATOR "")

include(CPack)
