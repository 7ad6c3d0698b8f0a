// Which shared object provides a symbol: used to report the BLAS implementation in use.
#define _GNU_SOURCE
#include <dlfcn.h>
#include "CFirebreakSupport.h"

const char *fb_shared_object_path(const void *address) {
    Dl_info info;
    if (dladdr(address, &info) == 0) return NULL;
    return info.dli_fname;
}
