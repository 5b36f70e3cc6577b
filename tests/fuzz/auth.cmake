# Fuzzer of the auth layer: arbitrary bytes into TokenVerifier::verify(), make -> verify round
# trips of fuzzed claims, and single-byte changes of signed tokens (never accepted).
herald_fuzz_target(fuzz_auth_token SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_auth_token.cpp
  LIBS herald_auth simdjson::simdjson)
