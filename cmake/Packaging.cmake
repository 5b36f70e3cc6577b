# The Debian package: install rules for what an operator gets, and CPack's DEB generator to turn
# them into herald_<version>_<arch>.deb (scripts/package runs it; docs/DEPLOY.md says what is
# where). CPack rather than debhelper: the package comes from the same CMake build as every
# test, with no debian/ tree (rules, changelog, compat) to keep beside it and no second
# build of the whole tree under dpkg-buildpackage. The price is writing by hand what
# dh_installsystemd would generate: deploy/debian/{postinst,prerm,postrm} are those snippets,
# plus the system user.
#
#   /usr/bin/herald                         the binary (stripped)
#   /etc/herald/herald.yaml                 docs/herald.example.yaml with data_dir /var/lib/herald
#                                           (a conffile, root:herald 0640: it may hold secrets)
#   /lib/systemd/system/herald.service      deploy/systemd/herald.service (user herald,
#                                           StateDirectory /var/lib/herald, hardened)
#   /usr/share/doc/herald/                  README.md, DEPLOY.md, and the proxy and Grafana
#                                           files of deploy/ under examples/

set(_herald_example ${PROJECT_SOURCE_DIR}/docs/herald.example.yaml)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_herald_example})
file(READ ${_herald_example} _herald_config)
set(_herald_packaged "${_herald_config}")
# The embedded default is a directory relative to where herald starts; the service keeps its
# history in its state directory instead.
string(REPLACE "\ndata_dir: herald-data\n" "\ndata_dir: /var/lib/herald\n" _herald_packaged
       "${_herald_packaged}")
string(REPLACE "these are the embedded defaults." "these are the embedded defaults, but for data_dir."
       _herald_packaged "${_herald_packaged}")
string(REGEX REPLACE "^# herald serve --config docs/herald.example.yaml\n"
       "# /etc/herald/herald.yaml: the configuration of the herald service (Debian package).\n# `systemctl restart herald` after a change (`herald check-config --config FILE` first);\n# `systemctl reload herald` (SIGHUP) reloads only the TLS and token key files.\n"
       _herald_packaged "${_herald_packaged}")
if(NOT _herald_packaged MATCHES "\ndata_dir: /var/lib/herald\n" OR
   NOT _herald_packaged MATCHES "^# /etc/herald/herald.yaml")
  message(FATAL_ERROR "cmake/Packaging.cmake: docs/herald.example.yaml no longer starts with "
                      "'# herald serve --config docs/herald.example.yaml' or has no "
                      "'data_dir: herald-data' line; update the packaged config's edits")
endif()
file(WRITE ${PROJECT_BINARY_DIR}/packaging/herald.yaml "${_herald_packaged}")

install(TARGETS herald RUNTIME DESTINATION bin)
install(FILES ${PROJECT_BINARY_DIR}/packaging/herald.yaml DESTINATION /etc/herald)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/herald.service
        DESTINATION /lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/DEPLOY.md
        DESTINATION share/doc/herald)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/deploy/nginx ${PROJECT_SOURCE_DIR}/deploy/haproxy
                  ${PROJECT_SOURCE_DIR}/deploy/grafana
        DESTINATION share/doc/herald/examples)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME herald)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "real-time messaging server: WebSocket, Server-Sent Events, long-polling")
# The synopsis is the summary above; CPack indents these lines as the extended description.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Herald keeps browsers and apps connected and fans out what a web application\npublishes to channels, with history, recovery and presence. This package runs it\nas the systemd service herald (user herald, history in /var/lib/herald,\nconfiguration in /etc/herald/herald.yaml).")
set(CPACK_PACKAGE_CONTACT "Herald developers <herald@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # herald_<version>_<arch>.deb
set(CPACK_STRIP_FILES ON)
# Library dependencies come from dpkg-shlibdeps (the binary's real needs); adduser for postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
include(CPack)
