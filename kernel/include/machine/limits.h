/*
 * <machine/limits.h> -- where Darwin's kernel headers find the integer
 * ranges: the same as <limits.h>.
 */
#include <limits.h>
