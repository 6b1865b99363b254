/*
 * <kern/assert.h> -- assert(), as Darwin's kernel has it: checked only
 * when the source is compiled with MACH_ASSERT non-zero (a kext's
 * Finch.toml: GCC_PREPROCESSOR_DEFINITIONS = ["MACH_ASSERT=1"]), else it
 * compiles to nothing, so the expression must not do work the code needs.
 * A failed check panics, naming the file, the line and the expression.
 */
#ifndef _KERN_ASSERT_H_
#define _KERN_ASSERT_H_

#include <sys/cdefs.h>

__BEGIN_DECLS

/* Panic with "file:line Assertion failed: expression"; what assert()
 * calls.  Never returns; any context. */
void	Assert(const char *file, int line, const char *expression) __dead2;

__END_DECLS

#if defined(MACH_ASSERT) && MACH_ASSERT
#define assert(ex)	((ex) ? (void)0 : Assert(__FILE__, __LINE__, #ex))
#define assert_static(ex)	assert(ex)
#else
#define assert(ex)	((void)0)
#define assert_static(ex)	do { } while (0)
#endif

#endif /* _KERN_ASSERT_H_ */
