/*
 * Assert(): what assert() (<kern/assert.h>) calls when its check fails.
 */
#include <sys/systm.h>
#include <kern/assert.h>

void
Assert(const char *file, int line, const char *expression)
{
	panic("%s:%d Assertion failed: %s", file, line, expression);
}
