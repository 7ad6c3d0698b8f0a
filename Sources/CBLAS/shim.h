// cblas.h comes from Debian's libblas-dev (/usr/include/x86_64-linux-gnu/cblas.h).
#include <cblas.h>
