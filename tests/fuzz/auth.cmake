# Fuzzers of the auth layer.
# fuzz_auth_token: arbitrary bytes into TokenVerifier (HS256, RS256, ES256, channel tokens,
# audience and issuer), make -> verify round trips of fuzzed claims, and changes of signed tokens
# (never accepted).
herald_fuzz_target(fuzz_auth_token SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_auth_token.cpp
  LIBS herald_auth simdjson::simdjson)
# fuzz_auth_keys: PEM and JWKS texts into the key parsers, and random key material into JWKs.
herald_fuzz_target(fuzz_auth_keys SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_auth_keys.cpp
  LIBS herald_auth)
