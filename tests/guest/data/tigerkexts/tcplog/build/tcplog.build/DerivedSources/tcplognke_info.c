/* What Xcode generated for the last build on the Mac; not a source. */
#include <mach/kmod.h>
KMOD_EXPLICIT_DECL(com.example.tiger.tcplog, "0.9", _start, _stop)
