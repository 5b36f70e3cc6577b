# Integration tests: start the real `herald` binary on 127.0.0.1:0 and drive it with clients
# someone else wrote (python-websockets 10.4 from Debian, npm ws 8) plus raw sockets for input no
# real client would send. Run them with `ctest -L integration`.
if(NOT TARGET herald)
  message(STATUS "integration tests: no `herald` target yet, not registered")
  return()
endif()

# Debian's python3 with python3-websockets, not a pyenv python that may lack the module.
set(HERALD_IT_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with the websockets module (10.4)")

foreach(suite chat echo frames http drain liveness protocol api namespaces tokens cli tcp http_transports origin limits
              tls permissions web metrics logs)
  add_test(NAME integration_${suite}
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_${suite}.py
            --herald $<TARGET_FILE:herald>)
  set_tests_properties(integration_${suite} PROPERTIES LABELS integration TIMEOUT 120)
endforeach()

# herald bench's subscribers over each transport (its clients are written apart from the
# server's and from herald_links.py).
add_test(NAME integration_bench
  COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_bench.py
          --herald $<TARGET_FILE:herald>)
set_tests_properties(integration_bench PROPERTIES LABELS integration TIMEOUT 180)

# The protocol suite again over every other transport (herald_links.py): same cases, same results.
foreach(transport tcp sse poll)
  add_test(NAME integration_protocol_${transport}
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_protocol.py
            --herald $<TARGET_FILE:herald> --transport ${transport})
  set_tests_properties(integration_protocol_${transport} PROPERTIES LABELS integration TIMEOUT 180)
endforeach()

# Several nodes on Redis: the protocol suite again with the Redis broker underneath, and the
# multi-node cases (order across nodes, idempotency across nodes, Redis restarted and paused).
# Both start their own redis-server (scripts/deps --test installs it) on free loopback ports.
find_program(HERALD_IT_REDIS redis-server)
if(HERALD_IT_REDIS)
  add_test(NAME integration_protocol_redis
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_protocol.py
            --herald $<TARGET_FILE:herald> --broker redis)
  set_tests_properties(integration_protocol_redis PROPERTIES LABELS "integration;redis" TIMEOUT 180)
  # Long-polling is the transport furthest from a socket: its sessions over Redis too.
  add_test(NAME integration_protocol_poll_redis
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_protocol.py
            --herald $<TARGET_FILE:herald> --broker redis --transport poll)
  set_tests_properties(integration_protocol_poll_redis PROPERTIES LABELS "integration;redis"
                       TIMEOUT 180)
  # /metrics with the Redis broker: the publish-to-delivery histogram fed by the publishing
  # node's take time carried through Redis.
  add_test(NAME integration_metrics_redis
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_metrics.py
            --herald $<TARGET_FILE:herald> --broker redis)
  set_tests_properties(integration_metrics_redis PROPERTIES LABELS "integration;redis" TIMEOUT 120)
  add_test(NAME integration_redis
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_redis.py --herald $<TARGET_FILE:herald>)
  set_tests_properties(integration_redis PROPERTIES LABELS "integration;redis" TIMEOUT 180)
  # TLS to Redis (rediss://): a redis-server on a TLS port only, a test CA made by openssl.
  add_test(NAME integration_redis_tls
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_redis_tls.py
            --herald $<TARGET_FILE:herald>)
  set_tests_properties(integration_redis_tls PROPERTIES LABELS "integration;redis" TIMEOUT 180)
  # Three nodes on Redis (issue 13): order across nodes, a node SIGKILLed under load, Redis paused
  # and restarted, presence leases and leaves, disconnect, info, channels, connection limits and
  # SSE/long-poll sessions across nodes.
  add_test(NAME integration_cluster
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_cluster.py --herald $<TARGET_FILE:herald>)
  set_tests_properties(integration_cluster PROPERTIES LABELS "integration;redis" TIMEOUT 300)
  add_test(NAME integration_cluster_sharded
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_cluster.py --herald $<TARGET_FILE:herald>
            --redis sharded)
  set_tests_properties(integration_cluster_sharded PROPERTIES LABELS "integration;redis" TIMEOUT 300)
  add_test(NAME integration_cluster_redis_cluster
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_cluster.py --herald $<TARGET_FILE:herald>
            --redis cluster)
  set_tests_properties(integration_cluster_redis_cluster PROPERTIES LABELS "integration;redis"
                       TIMEOUT 300)
  # herald bench against three nodes (bench/cluster.sh, small): --url/--server-pid per node,
  # --redis-pid, and the failover storm (a node SIGKILLed, its subscribers back and exact).
  add_test(NAME integration_bench_cluster
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_bench_cluster.py
            --herald $<TARGET_FILE:herald>)
  set_tests_properties(integration_bench_cluster PROPERTIES LABELS "integration;redis"
                       TIMEOUT 180)
  # A Redis Cluster that changes under load: a master added, a live channel's slot resharded to
  # it (redis-cli --cluster add-node, reshard), and a master SIGKILLed with a replica to take
  # over (failover); every subscriber's stream stays exact.
  add_test(NAME integration_cluster_topology
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_cluster_topology.py
            --herald $<TARGET_FILE:herald>)
  set_tests_properties(integration_cluster_topology PROPERTIES LABELS "integration;redis"
                       TIMEOUT 300)
else()
  message(WARNING "integration tests: redis-server not found, the Redis suites are not registered "
                  "(scripts/deps --test installs redis-server)")
endif()

# Permissions and user-limited channels over the other transports too (they are decided above the
# transports, and this shows it).
foreach(transport tcp sse poll)
  add_test(NAME integration_permissions_${transport}
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_permissions.py
            --herald $<TARGET_FILE:herald> --transport ${transport})
  set_tests_properties(integration_permissions_${transport} PROPERTIES LABELS integration
                       TIMEOUT 120)
endforeach()

# The examples are embedding applications on the public API; run them as a user would.
if(TARGET example_chat AND TARGET example_echo)
  add_test(NAME integration_examples
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_examples.py
            --chat $<TARGET_FILE:example_chat> --echo $<TARGET_FILE:example_echo>)
  set_tests_properties(integration_examples PROPERTIES LABELS integration TIMEOUT 60)
endif()

# The PHP client, with Debian's php-cli (scripts/deps --test installs it).
find_program(HERALD_IT_PHP php)
if(HERALD_IT_PHP)
  add_test(NAME integration_php
    COMMAND ${HERALD_IT_PYTHON} -B ${CMAKE_CURRENT_LIST_DIR}/test_php.py --herald $<TARGET_FILE:herald>)
  set_tests_properties(integration_php PROPERTIES LABELS integration TIMEOUT 90)
else()
  message(WARNING "integration tests: php not found, integration_php not registered "
                  "(scripts/deps --test installs php-cli)")
endif()

find_program(HERALD_IT_NODE node)
find_program(HERALD_IT_NPM npm)
if(HERALD_IT_NODE AND HERALD_IT_NPM)
  add_test(NAME integration_node
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/node/run.sh $<TARGET_FILE:herald>)
  set_tests_properties(integration_node PROPERTIES LABELS integration TIMEOUT 180)
  # The Pusher protocol with the real third-party clients: pusher-js 8 and the `pusher` server
  # library (tests/integration/pusher/package-lock.json).
  add_test(NAME integration_pusher
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/pusher/run.sh $<TARGET_FILE:herald>)
  set_tests_properties(integration_pusher PROPERTIES LABELS integration TIMEOUT 180)
else()
  message(STATUS "integration tests: node/npm not found, integration_node not registered")
endif()
