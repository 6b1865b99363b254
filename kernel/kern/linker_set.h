/*
 * Linker sets: a file adds an entry to a named set at compile time and
 * the kernel walks the set at run time, with no central table to edit.
 * The monitor's commands and selftest's tests are collected this way.
 * kernel.ld places each set_<name> section between __start_set_<name>
 * and __stop_set_<name> (the same trick FreeBSD's linker_set.h uses).
 */
#ifndef _KERN_LINKER_SET_H_
#define _KERN_LINKER_SET_H_

#include <sys/cdefs.h>

#define LINKER_SET_ENTRY(set, sym)					\
	static const void *const __set_##set##_##sym			\
	__section("set_" #set) __used = &(sym)

#define LINKER_SET_DECLARE(set, type)					\
	extern type *__start_set_##set[];				\
	extern type *__stop_set_##set[]

/* Walk every entry: `pvar` is a pointer to a pointer to the element. */
#define LINKER_SET_FOREACH(set, pvar)					\
	for (pvar = __start_set_##set; pvar < __stop_set_##set; pvar++)

#endif /* _KERN_LINKER_SET_H_ */
