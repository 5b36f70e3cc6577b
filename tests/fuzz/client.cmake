# Fuzzers of the C++ client library (clients/cpp): the server-frame parser (with inflate) and
# the handshake response parser.
foreach(name fuzz_client_frame fuzz_client_handshake)
  herald_fuzz_target(${name} SOURCE ${CMAKE_CURRENT_LIST_DIR}/${name}.cpp LIBS herald_client)
endforeach()
