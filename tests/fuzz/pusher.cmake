# Fuzzers of the Pusher layer: the client frame decoder (with the publication mapping and the
# frames built from what it decoded), the REST request signature check, and the wire of
# pusher-js's HTTP fallbacks (paths, xhr_send bodies, frames).
foreach(name fuzz_pusher_frames fuzz_pusher_signing fuzz_pusher_xhr)
  herald_fuzz_target(${name} SOURCE ${CMAKE_CURRENT_LIST_DIR}/${name}.cpp
    LIBS herald_pusher simdjson::simdjson)
endforeach()
