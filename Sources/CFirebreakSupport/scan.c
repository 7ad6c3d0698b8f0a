// Row scan for exact k-NN: positions whose ranking key is below a cut.
#include "CFirebreakSupport.h"

static size_t scan_scalar(const float *scores, const float *norms, size_t count, float cut, uint32_t *out) {
    size_t found = 0;
    for (size_t j = 0; j < count; j++) {
        float key = norms ? norms[j] - 2.0f * scores[j] : -scores[j];
        if (key < cut) out[found++] = (uint32_t)j;
    }
    return found;
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
static size_t scan_avx2(const float *scores, const float *norms, size_t count, float cut, uint32_t *out) {
    size_t found = 0, j = 0;
    const __m256 cuts = _mm256_set1_ps(cut);
    const __m256 zero = _mm256_setzero_ps();
    for (; j + 8 <= count; j += 8) {
        __m256 s = _mm256_loadu_ps(scores + j);
        __m256 key = norms ? _mm256_sub_ps(_mm256_loadu_ps(norms + j), _mm256_add_ps(s, s)) : _mm256_sub_ps(zero, s);
        unsigned mask = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(key, cuts, _CMP_LT_OQ));
        while (mask) {
            out[found++] = (uint32_t)(j + (size_t)__builtin_ctz(mask));
            mask &= mask - 1;
        }
    }
    return found;  /* count is a multiple of 8 here: the dispatcher scans the tail */
}
#endif

size_t fb_scan_below(const float *scores, const float *norms, size_t count, float cut, uint32_t *out) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) {
        size_t head = count & ~(size_t)7;
        size_t found = scan_avx2(scores, norms, head, cut, out);
        size_t tail = scan_scalar(scores + head, norms ? norms + head : 0, count - head, cut, out + found);
        for (size_t i = found; i < found + tail; i++) out[i] += (uint32_t)head;
        return found + tail;
    }
#endif
    return scan_scalar(scores, norms, count, cut, out);
}
