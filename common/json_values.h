/* Bounding what parsing a JSON text costs before it is parsed: a parsed
 * value costs jansson tens of bytes, so a small text of tiny values
 * ("[{},{},...]") would cost many times its size. Used by kaasd's varlink
 * reader and by kaas-webhook for TokenReview bodies. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* More than max JSON values (member names counted as values) in text?
 * Counted from the commas and brackets outside strings: each value after
 * the first of its container follows a comma. Reads len bytes exactly;
 * text need not be valid JSON (the parser decides that). */
bool json_values_exceed(const char *text, size_t len, size_t max);
