// CFirebreakSupport: the few primitives Swift cannot spell directly.
//
// Owns: cache prefetch hints, byte-sized spin locks (one per HNSW node), CRC-32C, and the
// dladdr lookup that tells which BLAS library the loader bound.
// Never: allocates, blocks in the kernel, or keeps state of its own.
#ifndef CFIREBREAK_SUPPORT_H
#define CFIREBREAK_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/// Hints the CPU to pull `address` into cache for reading.
static inline void fb_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Acquires a one-byte spin lock (0 = free, 1 = held). Acquire ordering.
static inline void fb_spin_lock(uint8_t *lock) {
    while (__atomic_exchange_n(lock, (uint8_t)1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
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

/// CRC-32C (Castagnoli), as used by iSCSI, ext4 and Tantivy-like footers.
/// Hardware instruction when the CPU has SSE 4.2, a table otherwise.
/// `crc` is the running value (start with 0); returns the updated value.
uint32_t fb_crc32c(uint32_t crc, const void *bytes, size_t count);

/// The file name of the shared object that contains `address` (dladdr), or NULL.
/// The string lives as long as that object stays loaded.
const char *fb_shared_object_path(const void *address);

#endif
