// CFirebreakSupport: the few primitives Swift cannot spell directly.
//
// Owns: cache prefetch hints, byte-sized spin locks (one per HNSW node), a few atomics, CRC-32C, and the
// dladdr lookup that tells which BLAS library the loader bound, and the score-row scan of
// exact k-NN (Swift's SIMD reductions compile to scalar code with NaN checks).
// Never: allocates, blocks in the kernel, or keeps state of its own.
#ifndef CFIREBREAK_SUPPORT_H
#define CFIREBREAK_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/// Hints the CPU to pull `address` into cache for reading.
static inline void fb_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Hints the CPU to pull every cache line of `[address, address + bytes)` into cache.
static inline void fb_prefetch_range(const void *address, size_t bytes) {
    const char *p = (const char *)address;
    for (size_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(p + offset, 0, 3);
}

/// Acquires a one-byte spin lock (0 = free, 1 = held). Acquire ordering.
static inline void fb_spin_lock(uint8_t *lock) {
    while (__atomic_exchange_n(lock, (uint8_t)1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
/// Scans a row of sgemm scores for entries whose ranking key is below `cut` and writes their
/// positions to `out` (room for `count` entries); returns how many. The key is
/// `norms[j] - 2 * scores[j]` when `norms` is non-NULL (L2), else `-scores[j]` (inner product).
/// AVX2 when the CPU has it, scalar otherwise. Callers re-check each hit against a cut that
/// may have tightened since.
size_t fb_scan_below(const float *scores, const float *norms, size_t count, float cut, uint32_t *out);

/// The file name of the shared object that contains `address` (dladdr), or NULL.
/// The string lives as long as that object stays loaded.
const char *fb_shared_object_path(const void *address);

#endif
        }
    }
}

/// Releases a lock taken by `fb_spin_lock`. Release ordering.
static inline void fb_spin_unlock(uint8_t *lock) {
    __atomic_store_n(lock, (uint8_t)0, __ATOMIC_RELEASE);
}

/// Atomically adds `delta` to `*counter` and returns the previous value (work distribution).
static inline int64_t fb_fetch_add(int64_t *counter, int64_t delta) {
    return __atomic_fetch_add(counter, delta, __ATOMIC_RELAXED);
}

/// Atomically adds `delta` to a 32-bit counter and returns the new value (in-degrees).
static inline uint32_t fb_add_u32(uint32_t *counter, int32_t delta) {
    return __atomic_add_fetch(counter, (uint32_t)delta, __ATOMIC_RELAXED);
}

/// Acquire load / release store of a shared 64-bit word (entry point, top level of a graph).
static inline int64_t fb_load_acquire(const int64_t *word) {
    return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}
static inline void fb_store_release(int64_t *word, int64_t value) {
    __atomic_store_n(word, value, __ATOMIC_RELEASE);
}

/// CRC-32C (Castagnoli), as used by iSCSI, ext4 and Tantivy-like footers.
/// Hardware instruction when the CPU has SSE 4.2, a table otherwise.
/// `crc` is the running value (start with 0); returns the updated value.
uint32_t fb_crc32c(uint32_t crc, const void *bytes, size_t count);

/// Scans a row of sgemm scores for entries whose ranking key is below `cut` and writes their
/// positions to `out` (room for `count` entries); returns how many. The key is
/// `norms[j] - 2 * scores[j]` when `norms` is non-NULL (L2), else `-scores[j]` (inner product).
/// AVX2 when the CPU has it, scalar otherwise. Callers re-check each hit against a cut that
/// may have tightened since.
size_t fb_scan_below(const float *scores, const float *norms, size_t count, float cut, uint32_t *out);

/// The file name of the shared object that contains `address` (dladdr), or NULL.
/// The string lives as long as that object stays loaded.
const char *fb_shared_object_path(const void *address);

#endif
