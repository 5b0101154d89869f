# Packaging: `make package` (cpack) builds one Debian package, connscale_VERSION_ARCH.deb, with
# server, agent and coordinator in /usr/bin, systemd units for the server and the agent, and
# /usr/lib/connscale/connscale-service (starts the same services where systemd is not PID 1).
# deploy/ (Ansible) installs this package on the load machines; see README "Deploy on real
# machines".

# Pieces that belong to the package rather than to one component.
set(CONNSCALE_PACKAGING_DIR ${CMAKE_CURRENT_SOURCE_DIR}/packaging)
install(FILES
  ${CONNSCALE_PACKAGING_DIR}/systemd/connscale-server.service
  ${CONNSCALE_PACKAGING_DIR}/systemd/connscale-agent.service
  DESTINATION lib/systemd/system)
install(PROGRAMS ${CONNSCALE_PACKAGING_DIR}/connscale-service DESTINATION lib/connscale)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/README.md DESTINATION share/doc/connscale)

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "connscale")
set(CPACK_PACKAGE_VENDOR "connscale")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
  "connscale opens tens of thousands of verified TCP echo connections against a\n\
thread-per-connection server from agents on several load machines, driven by a\n\
coordinator, and reports what each connection costs in user and kernel memory.")
set(CPACK_PACKAGE_CONTACT "connscale maintainers <connscale@localhost>")
# Packages install under /usr; the units reference /usr/bin/server and /usr/bin/agent.
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# The runtime libraries of the -dev packages scripts/deps installs (Debian 12 names).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libzmq5 (>= 4.3), libjansson4 (>= 2.13)")
# Release binaries: a package of a Debug tree would still work, just slower.
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_GENERATOR "")

include(CPack)
