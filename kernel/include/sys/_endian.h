/*
 * <sys/_endian.h> -- Darwin's home of ntohl and friends: they are in
 * <machine/endian.h>.
 */
#include <machine/endian.h>
