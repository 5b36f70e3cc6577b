# Fuzzers of the load generator's readers: the server's protocol lines and HTTP responses.
if(TARGET herald_bench_wire)
  foreach(name fuzz_bench_server_lines fuzz_bench_http_response)
    herald_fuzz_target(${name} SOURCE ${CMAKE_CURRENT_LIST_DIR}/${name}.cpp
      LIBS herald_bench_wire)
  endforeach()
endif()
