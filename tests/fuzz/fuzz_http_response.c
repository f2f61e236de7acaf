/*
 * fuzz_http_response.c - libFuzzer target for http_parse_response(): the
 * same invariants as the request target, which this includes.
 */
#define FUZZ_RESPONSE 1
#include "fuzz_http_request.c"
