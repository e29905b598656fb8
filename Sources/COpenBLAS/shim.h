#ifndef MEMKEEP_COPENBLAS_SHIM_H
#define MEMKEEP_COPENBLAS_SHIM_H

/* Debian's libopenblas-dev: cblas_sgemm and openblas_set_num_threads. */
#include <cblas.h>

#endif
