/* The per-call region: every SDK object is allocated here and freed at once after the call. */
#include <stdarg.h>
#include <stdlib.h>

#include "internal.h"

/* Alignment of every block: enough for any scalar type. */
#define ALIGN 16
/* Size of an ordinary chunk; bigger blocks get a chunk of their own. */
#define CHUNK 16384

typedef struct chunk {
    struct chunk *next;
    size_t size, used;
    _Alignas(ALIGN) unsigned char data[];
} chunk;

/* The chunk being filled is the head; the first chunk ever allocated is kept across resets. */
static chunk *head;
static void *last_block; /* the most recent block of the head chunk, which can grow in place */

_Noreturn void drift_trap(void) {
#if defined(__wasm__)
    __builtin_trap();
#else
    abort();
#endif
}

static size_t round_up(size_t n) { return (n + (ALIGN - 1)) & ~(size_t)(ALIGN - 1); }

static chunk *new_chunk(size_t size) {
    chunk *c = malloc(sizeof(chunk) + size);
    if (c == NULL) drift_trap();
    c->size = size;
    c->used = 0;
    return c;
}

void *drift_alloc(size_t size) {
    size = round_up(size ? size : 1);
    if (head == NULL || head->size - head->used < size) {
        if (size > CHUNK / 4) {
            /* A big block: its own chunk, behind the head so the head keeps filling. */
            chunk *c = new_chunk(size);
            c->used = size;
            if (head == NULL) {
                c->next = NULL;
                head = new_chunk(CHUNK);
                head->next = c;
            } else {
                c->next = head->next;
                head->next = c;
            }
            return c->data;
        }
        chunk *c = new_chunk(CHUNK);
        c->next = head;
        head = c;
    }
    void *block = head->data + head->used;
    head->used += size;
    last_block = block;
    return block;
}

void *drift_region_grow(void *block, size_t old_size, size_t new_size) {
    if (block != NULL && block == last_block) {
        size_t start = (size_t)((unsigned char *)block - head->data);
        if (start + round_up(new_size) <= head->size) {
            head->used = start + round_up(new_size);
            return block;
        }
    }
    void *fresh = drift_alloc(new_size);
    if (old_size) memcpy(fresh, block, old_size < new_size ? old_size : new_size);
    return fresh;
}

void drift_reset(void) {
    if (head == NULL) return;
    /* Keep one ordinary chunk for the next call: most calls then never reach malloc. */
    chunk *keep = NULL;
    for (chunk *c = head; c != NULL;) {
        chunk *next = c->next;
        if (keep == NULL && c->size == CHUNK) {
            keep = c;
        } else {
            free(c);
        }
        c = next;
    }
    head = keep;
    if (keep != NULL) {
        keep->used = 0;
        keep->next = NULL;
    }
    last_block = NULL;
}

size_t drift_region_bytes(void) {
    size_t total = 0;
    for (chunk *c = head; c != NULL; c = c->next) total += c->used;
    return total;
}

drift_str drift_str_copy(const char *text, size_t len) {
    char *copy = drift_alloc(len + 1);
    if (len) memcpy(copy, text, len);
    copy[len] = 0;
    return (drift_str){copy, len};
}

char *drift_strndup(const char *text, size_t len) { return (char *)drift_str_copy(text, len).ptr; }

char *drift_strdup(const char *text) { return drift_strndup(text, strlen(text)); }

char *drift_concat(const char *first, ...) {
    drift_buf buf = {0};
    va_list args;
    va_start(args, first);
    for (const char *part = first; part != NULL; part = va_arg(args, const char *)) {
        drift_buf_str(&buf, part);
    }
    va_end(args);
    return (char *)drift_buf_text(&buf);
}

drift_str drift_str_of(const char *text) { return (drift_str){text, strlen(text)}; }

drift_str drift_join(const drift_str *parts, size_t count) {
    drift_buf buf = {0};
    for (size_t i = 0; i < count; i++) drift_buf_mem(&buf, parts[i].ptr, parts[i].len);
    /* drift_buf_text NUL-terminates; the length is the buffer's, NUL bytes inside included. */
    size_t len = buf.len;
    return (drift_str){drift_buf_text(&buf), len};
}

char *drift_u64_text(uint64_t n) {
    drift_buf buf = {0};
    drift_buf_u64(&buf, n);
    return (char *)drift_buf_text(&buf);
}

char *drift_i64_text(int64_t n) {
    drift_buf buf = {0};
    if (n < 0) {
        drift_buf_char(&buf, '-');
        drift_buf_u64(&buf, (uint64_t)0 - (uint64_t)n);
    } else {
        drift_buf_u64(&buf, (uint64_t)n);
    }
    return (char *)drift_buf_text(&buf);
}

static void buf_reserve(drift_buf *buf, size_t more) {
    /* One spare byte for the terminator. */
    if (buf->len + more + 1 > buf->cap) {
        size_t cap = buf->cap ? buf->cap * 2 : 32;
        while (cap < buf->len + more + 1) cap *= 2;
        buf->ptr = drift_region_grow(buf->ptr, buf->cap, cap);
        buf->cap = cap;
    }
}

void drift_buf_mem(drift_buf *buf, const char *bytes, size_t len) {
    buf_reserve(buf, len);
    if (len) memcpy(buf->ptr + buf->len, bytes, len);
    buf->len += len;
}

void drift_buf_str(drift_buf *buf, const char *text) { drift_buf_mem(buf, text, strlen(text)); }

void drift_buf_char(drift_buf *buf, char c) {
    buf_reserve(buf, 1);
    buf->ptr[buf->len++] = c;
}

void drift_buf_u64(drift_buf *buf, uint64_t n) {
    char digits[20];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    drift_buf_mem(buf, digits + i, sizeof digits - i);
}

const char *drift_buf_text(drift_buf *buf) {
    buf_reserve(buf, 0);
    buf->ptr[buf->len] = 0;
    return buf->ptr;
}
