# Fuzzers of the Pusher layer: the client frame decoder (with the publication mapping and the
# frames built from what it decoded) and the REST request signature check.
foreach(name fuzz_pusher_frames fuzz_pusher_signing)
  herald_fuzz_target(${name} SOURCE ${CMAKE_CURRENT_LIST_DIR}/${name}.cpp
    LIBS herald_pusher simdjson::simdjson)
endforeach()
