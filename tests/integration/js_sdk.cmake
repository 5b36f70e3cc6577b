# The JavaScript SDK (clients/js), with Node's own test runner: unit tests on a fake clock and
# fake transports (no server), and integration tests that start the real `herald` binary and
# drive it through the SDK with npm ws. `ctest -L js` runs both.
find_program(HERALD_JS_NODE node)
find_program(HERALD_JS_NPM npm)
if(NOT HERALD_JS_NODE OR NOT HERALD_JS_NPM)
  message(STATUS "js sdk tests: node/npm not found, not registered")
  return()
endif()

set(HERALD_JS_RUN ${PROJECT_SOURCE_DIR}/clients/js/test/run.sh)
add_test(NAME js_sdk_unit COMMAND sh ${HERALD_JS_RUN} unit)
set_tests_properties(js_sdk_unit PROPERTIES LABELS "unit;js" TIMEOUT 60)

if(TARGET herald)
  add_test(NAME js_sdk_integration COMMAND sh ${HERALD_JS_RUN} integration $<TARGET_FILE:herald>)
  set_tests_properties(js_sdk_integration PROPERTIES LABELS "integration;js" TIMEOUT 180)
  # Three nodes on a real redis-server: a node SIGKILLed under load, its SDK clients (given the
  # three URLs) move to the others and recover exactly.
  find_program(HERALD_JS_REDIS redis-server)
  if(HERALD_JS_REDIS)
    add_test(NAME js_sdk_cluster COMMAND sh ${HERALD_JS_RUN} cluster $<TARGET_FILE:herald>)
    set_tests_properties(js_sdk_cluster PROPERTIES LABELS "integration;js;redis" TIMEOUT 180)
  else()
    message(STATUS "js sdk tests: redis-server not found, js_sdk_cluster not registered "
                   "(scripts/deps --test installs it)")
  endif()
else()
  message(STATUS "js sdk tests: no `herald` target, integration tests not registered")
endif()
