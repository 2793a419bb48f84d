#ifndef FIOGUARD_CJANSSON_SHIM_H
#define FIOGUARD_CJANSSON_SHIM_H
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Macros and flag values that Swift cannot import as written. */
static const size_t fg_json_load_flags = JSON_REJECT_DUPLICATES;
static const size_t fg_json_dump_flags = JSON_COMPACT | JSON_REAL_PRECISION(17);

static inline int fg_json_error_is_depth(const json_error_t *e) {
    return json_error_code(e) == json_error_stack_overflow;
}

/* json_object_foreach, as functions. */
static inline void *fg_json_object_iter(json_t *o) { return json_object_iter(o); }
static inline void *fg_json_object_iter_next(json_t *o, void *it) { return json_object_iter_next(o, it); }
static inline const char *fg_json_object_iter_key(void *it) { return json_object_iter_key(it); }
static inline size_t fg_json_object_iter_key_len(void *it) { return json_object_iter_key_len(it); }
static inline json_t *fg_json_object_iter_value(void *it) { return json_object_iter_value(it); }
/* Takes ownership of value (json_object_setn_new). */
static inline int fg_json_object_setn_new(json_t *o, const char *key, size_t len, json_t *v) {
    return json_object_setn_new_nocheck(o, key, len, v);
}
static inline int fg_json_array_append_new(json_t *a, json_t *v) { return json_array_append_new(a, v); }
static inline void fg_json_decref(json_t *j) { json_decref(j); }
static inline json_type fg_json_typeof(const json_t *j) { return json_typeof(j); }

/* The first occurrence of needle in haystack, or NULL (memmem is a GNU extension that Swift's
   Glibc module does not export). */
static inline const unsigned char *fg_find(const unsigned char *haystack, size_t haystack_len,
                                           const unsigned char *needle, size_t needle_len) {
    if (needle_len == 0 || haystack_len < needle_len) return NULL;
    const unsigned char *last = haystack + (haystack_len - needle_len);
    while (haystack <= last) {
        const unsigned char *p = memchr(haystack, needle[0], (size_t)(last - haystack) + 1);
        if (p == NULL) return NULL;
        if (memcmp(p, needle, needle_len) == 0) return p;
        haystack = p + 1;
    }
    return NULL;
}

#endif
