# Fuzzer of apps/herald: the parser of the lines a server sends to `herald sub`. It checks that
# whatever parses keeps data/info as valid JSON cut verbatim out of the input.
herald_fuzz_target(fuzz_app_server_lines SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_app_server_lines.cpp
  LIBS herald_cli_lines simdjson::simdjson)
