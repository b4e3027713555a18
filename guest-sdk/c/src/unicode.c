/* Unicode lowercase of UTF-8 text, as Rust's str::to_lowercase (tables dumped from Rust). */
#include "internal.h"
#include "unicode_tables.h"

/* Decodes one code point at s[*i] (input is valid UTF-8: it came through the component
 * model; invalid bytes are passed through as themselves, one at a time). */
static uint32_t decode(const unsigned char *s, size_t len, size_t *i) {
    unsigned char c = s[*i];
    size_t need = c < 0x80 ? 0 : c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (need == 0 || *i + need >= len) {
        (*i)++;
        return c;
    }
    uint32_t cp = c & (0x3F >> need);
    for (size_t k = 1; k <= need; k++) cp = (cp << 6) | (s[*i + k] & 0x3F);
    *i += need + 1;
    return cp;
}

static void encode(drift_buf *out, uint32_t cp) {
    char b[4];
    if (cp < 0x80) {
        drift_buf_char(out, (char)cp);
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        drift_buf_mem(out, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        drift_buf_mem(out, b, 3);
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        drift_buf_mem(out, b, 4);
    }
}

static bool in_ranges(const uint32_t (*ranges)[2], size_t count, uint32_t cp) {
    size_t low = 0, high = count;
    while (low < high) {
        size_t mid = (low + high) / 2;
        if (cp < ranges[mid][0]) {
            high = mid;
        } else if (cp > ranges[mid][1]) {
            low = mid + 1;
        } else {
            return true;
        }
    }
    return false;
}

static bool is_cased(uint32_t cp) {
    return in_ranges(CASED, sizeof CASED / sizeof CASED[0], cp);
}

static bool is_case_ignorable(uint32_t cp) {
    return in_ranges(CASE_IGNORABLE, sizeof CASE_IGNORABLE / sizeof CASE_IGNORABLE[0], cp);
}

static uint32_t lower_one(uint32_t cp) {
    size_t low = 0, high = sizeof LOWER_RUNS / sizeof LOWER_RUNS[0];
    while (low < high) {
        size_t mid = (low + high) / 2;
        const struct lower_run *r = &LOWER_RUNS[mid];
        uint32_t last = r->start + (uint32_t)(r->count - 1) * r->stride;
        if (cp < r->start) {
            high = mid;
        } else if (cp > last) {
            low = mid + 1;
        } else {
            return (cp - r->start) % r->stride == 0 ? (uint32_t)((int32_t)cp + r->delta) : cp;
        }
    }
    return cp;
}

/* Whether the code points before `at` (backwards) or from `at` on (forwards), skipping
 * case-ignorable ones, start with a cased one: Rust's case_ignorable_then_cased. */
static bool cased_before(const unsigned char *s, size_t at) {
    while (at > 0) {
        size_t start = at - 1;
        while (start > 0 && (s[start] & 0xC0) == 0x80) start--;
        size_t i = start;
        uint32_t cp = decode(s, at, &i);
        if (!is_case_ignorable(cp)) return is_cased(cp);
        at = start;
    }
    return false;
}

static bool cased_after(const unsigned char *s, size_t len, size_t at) {
    while (at < len) {
        uint32_t cp = decode(s, len, &at);
        if (!is_case_ignorable(cp)) return is_cased(cp);
    }
    return false;
}

char *drift_to_lower_len(const char *text, size_t len, size_t *out_len) {
    const unsigned char *s = (const unsigned char *)text;
    drift_buf out = {0};
    /* Room for the usual case: lowercase is mostly the same length. */
    out.ptr = drift_alloc(len + 1);
    out.cap = len + 1;
    size_t i = 0;
    while (i < len) {
        /* ASCII fast path. */
        if (s[i] < 0x80) {
            char c = (char)s[i++];
            drift_buf_char(&out, c >= 'A' && c <= 'Z' ? (char)(c + 32) : c);
            continue;
        }
        size_t start = i;
        uint32_t cp = decode(s, len, &i);
        if (cp == 0x3A3) {
            /* Σ: final sigma ς at the end of a word, σ elsewhere. */
            bool final = cased_before(s, start) && !cased_after(s, len, i);
            encode(&out, final ? 0x3C2 : 0x3C3);
            continue;
        }
        bool multi = false;
        for (size_t k = 0; k < sizeof LOWER_MULTI / sizeof LOWER_MULTI[0]; k++) {
            if (LOWER_MULTI[k][0] == cp) {
                for (size_t m = 1; m < 3 && LOWER_MULTI[k][m]; m++) encode(&out, LOWER_MULTI[k][m]);
                multi = true;
            }
        }
        if (!multi) encode(&out, lower_one(cp));
    }
    if (out_len) *out_len = out.len;
    return (char *)drift_buf_text(&out);
}

char *drift_to_lower(const char *text) { return drift_to_lower_len(text, strlen(text), NULL); }
