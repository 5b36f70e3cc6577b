# What operators install (deploy/, docs/herald.example.yaml, the Debian package), tested with the
# real binary and the real programs in front of it: nginx and haproxy (scripts/deps --test).
if(NOT TARGET herald)
  return()
endif()
# Also set by integration.cmake; repeated so this file does not depend on the include order (a
# fresh configure includes this file first, and the tests were registered without a command).
set(HERALD_IT_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with the websockets module (10.4)")

# The example configuration: every option of src/server/config.cpp there, explained, the defaults.
add_test(NAME integration_config_example
  COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_config_example.py
          --herald $<TARGET_FILE:herald> --packaged ${PROJECT_BINARY_DIR}/packaging/herald.yaml)
set_tests_properties(integration_config_example PROPERTIES LABELS "integration;deploy" TIMEOUT 60)

# deploy/grafana: provisioning and dashboard against the metrics the binary exports.
add_test(NAME integration_grafana
  COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_grafana.py
          --herald $<TARGET_FILE:herald>)
set_tests_properties(integration_grafana PROPERTIES LABELS "integration;deploy" TIMEOUT 60)

# deploy/nginx and deploy/haproxy in front of two nodes on one redis-server.
find_program(HERALD_IT_NGINX nginx PATHS /usr/sbin)
find_program(HERALD_IT_HAPROXY haproxy PATHS /usr/sbin)
find_program(HERALD_IT_REDIS redis-server)
if(HERALD_IT_NGINX AND HERALD_IT_HAPROXY AND HERALD_IT_REDIS)
  add_test(NAME integration_proxies
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_proxies.py
            --herald $<TARGET_FILE:herald>)
  set_tests_properties(integration_proxies PROPERTIES LABELS "integration;deploy;redis"
                       TIMEOUT 180)
else()
  message(WARNING "integration tests: nginx, haproxy or redis-server not found, "
                  "integration_proxies not registered (scripts/deps --test installs them)")
endif()

# The Debian package: built by CPack from this tree, installed with apt-get, verified, run, purged.
# It changes the machine (a package, a system user), so it runs only with HERALD_TEST_PACKAGE=1
# (.ci/run sets it) and is skipped otherwise. Not in sanitizer builds: it ships what the release
# build makes, and RUN_SERIAL keeps it from sharing the machine's dpkg with anything else.
if(NOT HERALD_SANITIZE AND NOT HERALD_FUZZ)
  add_test(NAME package_deb
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_package.py
            --build ${PROJECT_BINARY_DIR})
  set_tests_properties(package_deb PROPERTIES LABELS "package" TIMEOUT 600 SKIP_RETURN_CODE 77
                       RUN_SERIAL TRUE)
endif()
