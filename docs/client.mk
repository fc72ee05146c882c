# Man pages of the client side: kaasctl(1) and libkaas(3).
dist_man_MANS += docs/kaasctl.1 docs/libkaas.3
