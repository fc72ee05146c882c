/* The interface definitions kaasd serves, compiled in from docs/. */
#pragma once

#include <stddef.h>

extern const char *const kaasd_interfaces[];
extern const size_t kaasd_n_interfaces;
