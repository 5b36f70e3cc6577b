# `herald sub` (apps/herald/sub_command.cpp) exists only when the C++ client is built.
if(TARGET herald AND TARGET herald_client)
  # Also set by integration.cmake; repeated so this file does not depend on the include order.
  set(HERALD_IT_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with the websockets module (10.4)")
  add_test(NAME integration_cli_sub
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_cli_sub.py
            --herald $<TARGET_FILE:herald>)
  set_tests_properties(integration_cli_sub PROPERTIES LABELS integration TIMEOUT 180)
  add_test(NAME integration_cli_sub_transports
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_cli_sub_transports.py
            --herald $<TARGET_FILE:herald>)
  set_tests_properties(integration_cli_sub_transports PROPERTIES LABELS integration TIMEOUT 240)
endif()
