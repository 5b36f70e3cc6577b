# Fuzzers of the load generator's readers: the server's protocol lines, HTTP responses (server
# API and long-poll answers) and event streams (SSE). Raw TCP lines: client.cmake.
if(TARGET herald_bench_wire)
  foreach(name fuzz_bench_server_lines fuzz_bench_http_response fuzz_bench_sse_events)
    herald_fuzz_target(${name} SOURCE ${CMAKE_CURRENT_LIST_DIR}/${name}.cpp
      LIBS herald_bench_wire)
  endforeach()
endif()
