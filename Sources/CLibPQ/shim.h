// libpq-fe.h comes from Debian's libpq-dev (/usr/include/postgresql/libpq-fe.h).
#include <postgresql/libpq-fe.h>
