# The Debian package: `cpack` in the build directory (scripts/package) makes
# turnwarden_<version>_amd64.deb. Dependencies come from the binary's shared
# libraries (dpkg-shlibdeps), plus adduser for the postinst.
# Included from the top CMakeLists.txt after the turnwarden target exists.
set(TW_DEB ${CMAKE_CURRENT_LIST_DIR})
set(TW_DEB_OUT ${CMAKE_BINARY_DIR}/package)
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

# /etc/turnwarden/turnwarden.yaml: the shipped secure default with the keyring
# moved to /var/lib/turnwarden (the unit's private StateDirectory).
file(READ ${PROJECT_SOURCE_DIR}/etc/turnwarden.yaml tw_yaml)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${PROJECT_SOURCE_DIR}/etc/turnwarden.yaml ${TW_DEB}/changelog.in)
string(FIND "${tw_yaml}" "  secrets_file: secrets.yaml\n" tw_at)
if(tw_at EQUAL -1)
  message(FATAL_ERROR "etc/turnwarden.yaml: no 'secrets_file: secrets.yaml' line for the package to move")
endif()
string(REPLACE "  secrets_file: secrets.yaml\n" "  secrets_file: /var/lib/turnwarden/secrets.yaml\n"
       tw_yaml "${tw_yaml}")
file(WRITE ${TW_DEB_OUT}/turnwarden.yaml
"# /etc/turnwarden/turnwarden.yaml, installed by the turnwarden package.
# Edits are kept on upgrade. After editing: `turnwarden check-config` this file,
# `turnwarden doctor --config` it, then `systemctl reload turnwarden`.
# The public deployment guide: /usr/share/doc/turnwarden/deploy.md.
#
${tw_yaml}
# The security event log goes to the journal (stderr). To write it to a file
# instead, rotated by /etc/logrotate.d/turnwarden (SIGUSR1 reopens it):
# events:
#   file: /var/log/turnwarden/events.jsonl
")
configure_file(${TW_DEB}/changelog.in ${TW_DEB_OUT}/changelog @ONLY)

# The man page, generated from --help so it cannot drift (tests/etc checks it),
# and the compressed files Debian policy wants.
find_program(TW_HELP2MAN help2man)
find_program(TW_GZIP gzip REQUIRED)
set(tw_gz ${TW_DEB_OUT}/changelog.gz)
set(tw_gz_cmds COMMAND ${TW_GZIP} -9n -c ${TW_DEB_OUT}/changelog > ${tw_gz})
if(TW_HELP2MAN)
  list(APPEND tw_gz ${TW_DEB_OUT}/turnwarden.8.gz)
  list(APPEND tw_gz_cmds
    COMMAND ${TW_HELP2MAN} --no-info --section=8 --source=turnwarden
            "--name=hardened TURN/STUN relay server" --include=${TW_DEB}/turnwarden.h2m
            --output=${TW_DEB_OUT}/turnwarden.8 $<TARGET_FILE:turnwarden>
    COMMAND ${TW_GZIP} -9n -c ${TW_DEB_OUT}/turnwarden.8 > ${TW_DEB_OUT}/turnwarden.8.gz)
else()
  message(STATUS "help2man not found (Debian package help2man): no man page, no package")
endif()
add_custom_command(OUTPUT ${tw_gz} ${tw_gz_cmds}
                   DEPENDS turnwarden ${TW_DEB}/turnwarden.h2m ${TW_DEB_OUT}/changelog
                   VERBATIM)
add_custom_target(turnwarden_package_files ALL DEPENDS ${tw_gz})

install(TARGETS turnwarden RUNTIME DESTINATION bin)
install(FILES ${TW_DEB_OUT}/turnwarden.yaml DESTINATION /etc/turnwarden)
install(FILES ${TW_DEB}/logrotate DESTINATION /etc/logrotate.d RENAME turnwarden)
install(FILES ${PROJECT_SOURCE_DIR}/etc/systemd/turnwarden.service DESTINATION /lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/etc/grafana/turnwarden.json DESTINATION share/turnwarden/grafana)
install(FILES ${PROJECT_SOURCE_DIR}/etc/prometheus/alerts.yml
              ${PROJECT_SOURCE_DIR}/etc/prometheus/prometheus.yml
        DESTINATION share/turnwarden/prometheus)
install(FILES ${TW_DEB_OUT}/turnwarden.8.gz DESTINATION share/man/man8 OPTIONAL)
install(FILES ${TW_DEB_OUT}/changelog.gz ${TW_DEB}/copyright
              ${PROJECT_SOURCE_DIR}/docs/deploy.md ${PROJECT_SOURCE_DIR}/docs/config.md
        DESTINATION share/doc/turnwarden)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME turnwarden)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_CONTACT "turnwarden maintainers <maintainers@turnwarden.invalid>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS logrotate)
# CPack indents the lines after the summary itself.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "hardened TURN/STUN relay server for WebRTC
turnwarden relays media for WebRTC peers that cannot reach each other
directly (TURN, RFC 8656) and answers STUN Binding requests (RFC 8489).
It is safe to expose as installed: it refuses to relay to loopback, private,
link-local and cloud-metadata addresses, issues only expiring credentials
from a rotating keyring, and keeps no state for unauthenticated packets.
Includes a hardened systemd unit, Prometheus metrics and a security event log.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${TW_DEB}/postinst ${TW_DEB}/prerm ${TW_DEB}/postrm ${TW_DEB}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
