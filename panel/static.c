/* The panel's only static files, built into the program (nothing to
 * install, nothing to get out of step): panel/static/panel.css and
 * panel.js, included byte for byte by the assembler. */
#include "config.h"

#define INCLUDE_FILE(sym, path)                                                  \
        __asm__(".section .rodata\n"                                             \
                ".global " #sym "\n"                                             \
                ".balign 16\n" #sym ":\n"                                        \
                ".incbin \"" path "\"\n"                                         \
                #sym "_end:\n"                                                   \
                ".global " #sym "_len\n"                                         \
                ".balign 4\n" #sym "_len:\n"                                     \
                ".int " #sym "_end - " #sym "\n"                                 \
                ".previous\n")

INCLUDE_FILE(panel_css, PANEL_STATIC_DIR "/panel.css");
INCLUDE_FILE(panel_js, PANEL_STATIC_DIR "/panel.js");
