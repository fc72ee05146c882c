sbin_PROGRAMS += kaasd/kaasd
kaasd_kaasd_SOURCES = kaasd/main.c
