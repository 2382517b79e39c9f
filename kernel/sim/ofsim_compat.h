/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the simulation core needs from its host, for the kernel and for
 * user space.  Keep this small: the core must not depend on anything that
 * behaves differently in the two hosts.
 */
#ifndef _OFSIM_COMPAT_H
#define _OFSIM_COMPAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/compiler.h>
#include <asm/barrier.h>
#include <linux/math64.h>
#else
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <linux/types.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef int16_t s16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

#define WRITE_ONCE(x, val)	(*(volatile __typeof__(x) *)&(x) = (val))
#define READ_ONCE(x)		(*(volatile __typeof__(x) *)&(x))
#define smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
#define smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)

/*
 * a * mul / div without intermediate overflow, as <linux/math64.h> has it
 * (on x86-64 the kernel does mulq; divq).  The caller guarantees that the
 * quotient fits in 64 bits, so both hosts give the same exact result.
 */
static inline u64 mul_u64_u64_div_u64(u64 a, u64 mul, u64 div)
{
	return (u64)((unsigned __int128)a * mul / div);
}
#endif

#endif /* _OFSIM_COMPAT_H */
