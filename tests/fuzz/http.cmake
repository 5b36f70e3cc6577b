# Fuzzers for the http layer's parsers (src/http). Seeds: tests/fuzz/corpus/<name>/.
herald_fuzz_target(fuzz_http_request SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_http_request.cpp
                   LIBS herald_http)
herald_fuzz_target(fuzz_http_chunked SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_http_chunked.cpp
                   LIBS herald_http)
