# Fuzzers of the protocol layer: the client command decoder (whole frames of '\n'-separated
# commands) and the server API body decoder. Both check that whatever decodes re-encodes to
# valid JSON that decodes to the same thing again.
foreach(name fuzz_protocol_commands fuzz_protocol_api)
  herald_fuzz_target(${name} SOURCE ${CMAKE_CURRENT_LIST_DIR}/${name}.cpp
    LIBS herald_protocol simdjson::simdjson)
endforeach()
