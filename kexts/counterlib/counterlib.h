/*
 * The interface com.finch.sample.counterlib offers other kexts.  Its
 * globals carry a reverse-DNS prefix so that they collide with nothing
 * else in the kernel's one namespace.
 */
#ifndef _COM_FINCH_SAMPLE_COUNTERLIB_H_
#define _COM_FINCH_SAMPLE_COUNTERLIB_H_

#include <stdint.h>

/* Add `n` to the shared counter; returns the new value.  Thread-safe. */
int32_t	com_finch_counterlib_add(int32_t n);

/* The counter's current value. */
int32_t	com_finch_counterlib_value(void);

#endif
