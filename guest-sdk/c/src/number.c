/* Numbers as decimal text: integer parsing as Rust's `str::parse`, and exact conversions
 * between decimal text and f64 (correctly rounded parsing; shortest round-trip printing in
 * positional notation, as Rust's `Display` for f64), without libc's stdio-bound strtod/printf. */
#include "internal.h"

bool drift_parse_i64(const char *text, size_t len, int64_t *out) {
    size_t i = 0;
    bool negative = false;
    if (len > 0 && (text[0] == '+' || text[0] == '-')) {
        negative = text[0] == '-';
        i = 1;
    }
    if (i == len) return false;
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t n = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned char)text[i] - '0';
        if (d > 9) return false;
        if (n > (limit - d) / 10) return false;
        n = n * 10 + d;
    }
    if (out) *out = negative ? (int64_t)(0 - n) : (int64_t)n;
    return true;
}

bool drift_parse_usize(const char *text, size_t len, size_t *out) {
    size_t i = 0;
    if (len > 0 && text[0] == '+') i = 1;
    if (i == len) return false;
    size_t n = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned char)text[i] - '0';
        if (d > 9) return false;
        if (n > (SIZE_MAX - d) / 10) return false;
        n = n * 10 + d;
    }
    *out = n;
    return true;
}

/* ---- a small fixed-size big integer ---- */

#define LIMBS 420 /* 13 440 bits: 780 digits times 10^1100, with room */

typedef struct big {
    uint32_t limb[LIMBS]; /* little-endian */
    size_t len;
} big;

static void big_set(big *b, uint64_t v) {
    b->len = 0;
    while (v) {
        b->limb[b->len++] = (uint32_t)v;
        v >>= 32;
    }
}

static void big_mul_add(big *b, uint32_t mul, uint32_t add) {
    uint64_t carry = add;
    for (size_t i = 0; i < b->len; i++) {
        uint64_t t = (uint64_t)b->limb[i] * mul + carry;
        b->limb[i] = (uint32_t)t;
        carry = t >> 32;
    }
    if (carry) {
        if (b->len == LIMBS) drift_trap();
        b->limb[b->len++] = (uint32_t)carry;
    }
}

static void big_mul_pow5(big *b, unsigned k) {
    while (k >= 13) {
        big_mul_add(b, 1220703125u, 0); /* 5^13 */
        k -= 13;
    }
    static const uint32_t small[13] = {1, 5, 25, 125, 625, 3125, 15625, 78125, 390625,
                                       1953125, 9765625, 48828125, 244140625};
    if (k) big_mul_add(b, small[k], 0);
}

static void big_shl(big *b, unsigned bits) {
    if (b->len == 0) return;
    size_t words = bits / 32;
    unsigned rest = bits % 32;
    if (b->len + words + 1 > LIMBS) drift_trap();
    uint32_t top = 0;
    if (rest) top = b->limb[b->len - 1] >> (32 - rest);
    for (size_t i = b->len; i-- > 0;) {
        uint32_t v = b->limb[i] << rest;
        if (rest && i > 0) v |= b->limb[i - 1] >> (32 - rest);
        b->limb[i + words] = v;
    }
    for (size_t i = 0; i < words; i++) b->limb[i] = 0;
    b->len += words;
    if (top) b->limb[b->len++] = top;
}

static int big_cmp(const big *a, const big *b) {
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    for (size_t i = a->len; i-- > 0;) {
        if (a->limb[i] != b->limb[i]) return a->limb[i] < b->limb[i] ? -1 : 1;
    }
    return 0;
}

/* Divides by `div`, returning the remainder. */
static uint32_t big_divmod(big *b, uint32_t div) {
    uint64_t rem = 0;
    for (size_t i = b->len; i-- > 0;) {
        uint64_t cur = (rem << 32) | b->limb[i];
        b->limb[i] = (uint32_t)(cur / div);
        rem = cur % div;
    }
    while (b->len && b->limb[b->len - 1] == 0) b->len--;
    return (uint32_t)rem;
}

/* ---- doubles as bits ---- */

static uint64_t bits_of(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double of_bits(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* A positive finite double as m × 2^e. */
static void decompose(uint64_t bits, uint64_t *m, int *e) {
    int ex = (int)(bits >> 52);
    uint64_t frac = bits & ((1ull << 52) - 1);
    if (ex == 0) {
        *m = frac;
        *e = -1074;
    } else {
        *m = frac | (1ull << 52);
        *e = ex - 1075;
    }
}

#define MAX_DIGITS 780

/* Compares digits × 10^exp10 with mid × 2^exp2 exactly. */
static int compare(const uint8_t *digits, size_t n, int exp10, uint64_t mid, int exp2) {
    static big left, right; /* static: 3.4 KB each, kept off the small wasm stack */
    left.len = 0;
    for (size_t i = 0; i < n; i++) big_mul_add(&left, 10, digits[i]);
    big_set(&right, mid);
    /* 10^k = 5^k × 2^k: move negative powers to the other side. */
    int shift_left = 0, shift_right = 0;
    if (exp10 >= 0) {
        big_mul_pow5(&left, (unsigned)exp10);
        shift_left += exp10;
    } else {
        big_mul_pow5(&right, (unsigned)-exp10);
        shift_right += -exp10;
    }
    if (exp2 >= 0) {
        shift_right += exp2;
    } else {
        shift_left += -exp2;
    }
    int common = shift_left < shift_right ? shift_left : shift_right;
    big_shl(&left, (unsigned)(shift_left - common));
    big_shl(&right, (unsigned)(shift_right - common));
    return big_cmp(&left, &right);
}

/* A rough value of digits × 10^exp10 (a few ulps off at most), never NaN. */
static double approximate(const uint8_t *digits, size_t n, int exp10) {
    uint64_t lead = 0;
    size_t used = n < 19 ? n : 19;
    for (size_t i = 0; i < used; i++) lead = lead * 10 + digits[i];
    double x = (double)lead;
    int e = exp10 + (int)(n - used);
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    while (e > 0 && x <= 1.7976931348623157e308) {
        int step = e > 22 ? 22 : e;
        x *= pow10[step];
        e -= step;
    }
    while (e < 0 && x > 0) {
        int step = -e > 22 ? 22 : -e;
        x /= pow10[step];
        e += step;
    }
    return x;
}

/* digits (no leading zero, n ≥ 1) × 10^exp10, correctly rounded (ties to even). */
static double decimal_to_double(const uint8_t *digits, size_t n, int exp10) {
    int magnitude = (int)n + exp10; /* the value is below 10^magnitude */
    if (magnitude > 310) return of_bits(0x7ff0000000000000ull);
    if (magnitude < -324) return 0.0;
    double x = approximate(digits, n, exp10);
    uint64_t bits = bits_of(x);
    if (bits >= 0x7ff0000000000000ull) bits = 0x7fefffffffffffffull;
    if (bits == 0) bits = 1;
    for (;;) {
        uint64_t m;
        int e;
        decompose(bits, &m, &e);
        /* Halfway to the next double up: (2m+1) × 2^(e-1). */
        int up = compare(digits, n, exp10, 2 * m + 1, e - 1);
        if (up > 0) {
            bits++;
            if (bits == 0x7ff0000000000000ull) return of_bits(bits);
            continue;
        }
        if (up == 0) return of_bits((m & 1) ? bits + 1 : bits);
        /* Halfway to the next double down; closer below a power of two. */
        int down;
        if (m == (1ull << 52) && e > -1074) {
            down = compare(digits, n, exp10, 4 * m - 1, e - 2);
        } else {
            down = compare(digits, n, exp10, 2 * m - 1, e - 1);
        }
        if (down < 0) {
            bits--;
            if (bits == 0) return 0.0;
            continue;
        }
        if (down == 0) return of_bits((m & 1) ? bits - 1 : bits);
        return of_bits(bits);
    }
}

static bool ascii_equal_nocase(const char *text, size_t len, const char *word) {
    size_t n = strlen(word);
    if (len != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != word[i]) return false;
    }
    return true;
}

bool drift_parse_f64(const char *text, size_t len, double *out) {
    size_t i = 0;
    bool negative = false;
    if (i < len && (text[i] == '+' || text[i] == '-')) {
        negative = text[i] == '-';
        i++;
    }
    const char *rest = text + i;
    size_t rest_len = len - i;
    if (ascii_equal_nocase(rest, rest_len, "inf") || ascii_equal_nocase(rest, rest_len, "infinity")) {
        *out = negative ? -of_bits(0x7ff0000000000000ull) : of_bits(0x7ff0000000000000ull);
        return true;
    }
    if (ascii_equal_nocase(rest, rest_len, "nan")) {
        *out = of_bits(0x7ff8000000000000ull);
        return true;
    }
    static uint8_t digits[MAX_DIGITS + 1];
    size_t n = 0;
    long exp10 = 0;
    bool sticky = false, any = false, fraction = false;
    for (; i < len; i++) {
        char c = text[i];
        if (c == '.' && !fraction) {
            fraction = true;
            continue;
        }
        if (c < '0' || c > '9') break;
        any = true;
        uint8_t d = (uint8_t)(c - '0');
        if (n == 0 && d == 0) {
            if (fraction) exp10--;
        } else if (n < MAX_DIGITS) {
            digits[n++] = d;
            if (fraction) exp10--;
        } else {
            if (d) sticky = true;
            if (!fraction) exp10++;
        }
    }
    if (!any) return false;
    if (i < len) {
        if (text[i] != 'e' && text[i] != 'E') return false;
        i++;
        bool exp_negative = false;
        if (i < len && (text[i] == '+' || text[i] == '-')) {
            exp_negative = text[i] == '-';
            i++;
        }
        if (i == len) return false;
        long e = 0;
        for (; i < len; i++) {
            if (text[i] < '0' || text[i] > '9') return false;
            if (e < 100000000) e = e * 10 + (text[i] - '0');
        }
        exp10 += exp_negative ? -e : e;
    }
    double value;
    if (n == 0) {
        value = 0.0;
    } else {
        if (sticky) {
            digits[n++] = 1;
            exp10--;
        }
        while (n > 1 && digits[n - 1] == 0) {
            n--;
            exp10++;
        }
        if (exp10 > 100000) exp10 = 100000;
        if (exp10 < -100000) exp10 = -100000;
        value = decimal_to_double(digits, n, (int)exp10);
    }
    *out = negative ? -value : value;
    return true;
}

/* ---- shortest printing ---- */

/* The exact decimal digits of a positive double: digits × 10^exp10. Returns the count. */
static size_t exact_digits(uint64_t bits, uint8_t *out, int *exp10) {
    static big b;
    uint64_t m;
    int e;
    decompose(bits, &m, &e);
    big_set(&b, m);
    if (e >= 0) {
        big_shl(&b, (unsigned)e);
        *exp10 = 0;
    } else {
        big_mul_pow5(&b, (unsigned)-e);
        *exp10 = e;
    }
    /* Collect base-10^9 chunks, least significant first, then spell them out. */
    static uint32_t chunks[LIMBS * 2];
    size_t count = 0;
    while (b.len) chunks[count++] = big_divmod(&b, 1000000000u);
    size_t n = 0;
    for (size_t i = count; i-- > 0;) {
        char nine[9];
        uint32_t c = chunks[i];
        for (int k = 8; k >= 0; k--) {
            nine[k] = (char)(c % 10);
            c /= 10;
        }
        for (int k = 0; k < 9; k++) {
            if (n == 0 && nine[k] == 0) continue;
            out[n++] = (uint8_t)nine[k];
        }
    }
    while (n > 1 && out[n - 1] == 0) {
        n--;
        (*exp10)++;
    }
    return n;
}

/* Adds one unit at the last of `n` digits; a carry may add a digit in front (same exponent). */
static size_t increment(uint8_t *digits, size_t n) {
    size_t i = n;
    while (i > 0 && digits[i - 1] == 9) digits[--i] = 0;
    if (i == 0) {
        memmove(digits + 1, digits, n);
        digits[0] = 1;
        return n + 1;
    }
    digits[i - 1]++;
    return n;
}

/* Drops trailing zeros, raising the exponent. */
static size_t trim(const uint8_t *digits, size_t n, int *exp10) {
    while (n > 1 && digits[n - 1] == 0) {
        n--;
        (*exp10)++;
    }
    return n;
}

const char *drift_format_f64(double value) {
    uint64_t bits = bits_of(value);
    bool negative = bits >> 63;
    bits &= ~(1ull << 63);
    drift_buf out = {0};
    if (bits > 0x7ff0000000000000ull) return "NaN";
    if (negative) drift_buf_char(&out, '-');
    if (bits == 0x7ff0000000000000ull) {
        drift_buf_str(&out, "inf");
        return drift_buf_text(&out);
    }
    if (bits == 0) {
        drift_buf_char(&out, '0');
        return drift_buf_text(&out);
    }
    static uint8_t exact[1100];
    int exact_exp;
    size_t exact_n = exact_digits(bits, exact, &exact_exp);
    uint8_t best[20];
    size_t best_n = 0;
    int best_exp = 0;
    for (size_t p = 1; p <= 17 && best_n == 0; p++) {
        if (exact_n <= p) {
            /* The exact value is short enough: it reads back. */
            memcpy(best, exact, exact_n);
            best_n = exact_n;
            best_exp = exact_exp;
            break;
        }
        /* As Dragon4's shortest mode (which Rust's output equals): at the first length where
         * the truncated digits or the next decimal up reads back, take the one that does, or
         * the nearer of the two when both do, the upper one on a tie. */
        uint8_t down[20], up[20];
        memcpy(down, exact, p);
        memcpy(up, exact, p);
        int exp_p = exact_exp + (int)(exact_n - p);
        size_t up_n = increment(up, p);
        int down_e = exp_p, up_e = exp_p;
        size_t dn = trim(down, p, &down_e), un = trim(up, up_n, &up_e);
        bool down_ok = bits_of(decimal_to_double(down, dn, down_e)) == bits;
        bool up_ok = bits_of(decimal_to_double(up, un, up_e)) == bits;
        if (!down_ok && !up_ok) continue;
        bool take_up = up_ok && (!down_ok || exact[p] >= 5); /* the rest is at least half */
        if (take_up) {
            memcpy(best, up, un);
            best_n = un;
            best_exp = up_e;
        } else {
            memcpy(best, down, dn);
            best_n = dn;
            best_exp = down_e;
        }
    }
    if (best_n == 0) drift_trap(); /* cannot happen: 17 digits always read back */
    /* Positional notation: digits × 10^best_exp. */
    int point = (int)best_n + best_exp; /* digits before the decimal point */
    if (point <= 0) {
        drift_buf_str(&out, "0.");
        for (int k = 0; k < -point; k++) drift_buf_char(&out, '0');
        for (size_t k = 0; k < best_n; k++) drift_buf_char(&out, (char)('0' + best[k]));
    } else if ((size_t)point >= best_n) {
        for (size_t k = 0; k < best_n; k++) drift_buf_char(&out, (char)('0' + best[k]));
        for (int k = 0; k < point - (int)best_n; k++) drift_buf_char(&out, '0');
    } else {
        for (size_t k = 0; k < best_n; k++) {
            if ((int)k == point) drift_buf_char(&out, '.');
            drift_buf_char(&out, (char)('0' + best[k]));
        }
    }
    return drift_buf_text(&out);
}
