# Fuzzers of the transport layer: the raw TCP line reader.
herald_fuzz_target(fuzz_transport_lines SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_transport_lines.cpp
                   LIBS herald_transport)
