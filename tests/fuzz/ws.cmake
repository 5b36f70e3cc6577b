# Fuzzers of the ws layer: the frame receiver (with and without deflate), the inflater with
# its output cap, and the Sec-WebSocket-Extensions negotiation parser.
foreach(name fuzz_ws_receiver fuzz_ws_inflate fuzz_ws_extensions)
  herald_fuzz_target(${name} SOURCE ${CMAKE_CURRENT_LIST_DIR}/${name}.cpp LIBS herald_ws)
endforeach()
