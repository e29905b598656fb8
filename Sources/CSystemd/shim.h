#ifndef MEMKEEP_CSYSTEMD_SHIM_H
#define MEMKEEP_CSYSTEMD_SHIM_H

/* We pass CODE_FILE/CODE_LINE/CODE_FUNC ourselves (the Swift caller's), so the C macros that
   add the location of this header must stay out of the way. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1

#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

/* The kernel thread id for the journal's TID field (glibc's gettid() is not always visible). */
static inline int memkeep_gettid(void) { return (int)syscall(SYS_gettid); }

#endif
