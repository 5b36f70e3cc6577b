# Fuzzers of the C++ client library (clients/cpp): the server-frame parser (with inflate), the
# handshake response parser, the raw TCP transport's line splitter and the TLS session (a
# server's bytes after the ClientHello).
foreach(name fuzz_client_frame fuzz_client_handshake fuzz_client_lines fuzz_client_tls)
  herald_fuzz_target(${name} SOURCE ${CMAKE_CURRENT_LIST_DIR}/${name}.cpp LIBS herald_client)
endforeach()
