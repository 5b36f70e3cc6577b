# Fuzzers of the broker layer: the RESP2 reply parser of the Redis client.
herald_fuzz_target(fuzz_broker_resp SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_broker_resp.cpp
                   LIBS herald_broker)
