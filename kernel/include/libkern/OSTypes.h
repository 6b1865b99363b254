/*
 * <libkern/OSTypes.h> -- the fixed-width integer names of Apple's
 * libkern and IOKit interfaces (UInt32, SInt64, Boolean, ...).
 * XNU's i386 headers spelled the 32-bit types with long; Finch uses int,
 * so that SInt32 is the same type as int32_t and prints with %d.
 */
#ifndef _OS_OSTYPES_H
#define _OS_OSTYPES_H

typedef unsigned char		UInt8;
typedef unsigned short		UInt16;
typedef unsigned int		UInt32;
typedef unsigned long long	UInt64;

typedef signed char		SInt8;
typedef signed short		SInt16;
typedef signed int		SInt32;
typedef signed long long	SInt64;

/* A one-byte truth value: false is 0, true is 1. */
typedef unsigned char		Boolean;

#endif /* _OS_OSTYPES_H */
