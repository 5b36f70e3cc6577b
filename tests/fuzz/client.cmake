# Fuzzers of the C++ client library (clients/cpp): the server-frame parser (with inflate), the
# handshake response parser and the raw TCP transport's line splitter.
foreach(name fuzz_client_frame fuzz_client_handshake fuzz_client_lines)
  herald_fuzz_target(${name} SOURCE ${CMAKE_CURRENT_LIST_DIR}/${name}.cpp LIBS herald_client)
endforeach()
