# Fuzzers for the net layer (src/net). Seeds: tests/fuzz/corpus/<name>/.
herald_fuzz_target(fuzz_net_tls_session SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_net_tls_session.cpp
                   LIBS herald_net)
