#ifndef BUCKETSCOPE_CNCURSES_SHIM_H
#define BUCKETSCOPE_CNCURSES_SHIM_H
// Wide-character curses: SwiftPM drops pkg-config's -D flags, so define them here (DESIGN.md).
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <langinfo.h>
#include <string.h>
#include <ncursesw/curses.h>

// Swift cannot read curses' global variables under strict concurrency, and macros with
// arguments or casts do not import: wrap each one the backend uses.
static inline WINDOW *bs_stdscr(void) { return stdscr; }
static inline int bs_lines(void) { return LINES; }
static inline int bs_cols(void) { return COLS; }
static inline int bs_colors(void) { return COLORS; }
static inline int bs_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t bs_a_normal(void) { return A_NORMAL; }
static inline attr_t bs_a_bold(void) { return A_BOLD; }
static inline attr_t bs_a_dim(void) { return A_DIM; }
static inline attr_t bs_a_reverse(void) { return A_REVERSE; }
static inline attr_t bs_a_underline(void) { return A_UNDERLINE; }
static inline int bs_key_f(int n) { return KEY_F(n); }
static inline int bs_key_code_yes(void) { return KEY_CODE_YES; }
static inline int bs_err(void) { return ERR; }
/// newterm on the process's stdout/stdin (Swift cannot read the stdio globals); NULL on failure.
static inline SCREEN *bs_newterm(void) { return newterm(NULL, stdout, stdin); }

/// Mouse: button-1 presses and the wheel (buttons 4 and 5), reported at once (no click timer).
static inline void bs_mouse_enable(void) {
    mmask_t mask = BUTTON1_PRESSED | BUTTON4_PRESSED;
#if defined(BUTTON5_PRESSED)
    mask |= BUTTON5_PRESSED;
#endif
    mousemask(mask, NULL);
    mouseinterval(0);
}
static inline int bs_key_mouse(void) { return KEY_MOUSE; }
/// The pending mouse event: 1 press, 2 wheel up, 3 wheel down, 0 anything else, -1 none.
static inline int bs_get_mouse(int *x, int *y) {
    MEVENT e;
    if (getmouse(&e) != OK) return -1;
    *x = e.x; *y = e.y;
    if (e.bstate & BUTTON1_PRESSED) return 1;
    if (e.bstate & BUTTON4_PRESSED) return 2;
#if defined(BUTTON5_PRESSED)
    if (e.bstate & BUTTON5_PRESSED) return 3;
#endif
    return 0;
}

/// 1 when the current locale's character set is UTF-8 (call after setlocale).
static inline int bs_locale_is_utf8(void) {
    const char *cs = nl_langinfo(CODESET);
    return cs != NULL && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}
#endif
