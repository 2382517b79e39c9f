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

/* single, untorn accesses, as the kernel's: relaxed C11 atomics */
#define WRITE_ONCE(x, val)	__atomic_store_n(&(x), (val), __ATOMIC_RELAXED)
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
/* store-store order: a release fence orders every earlier store before later ones */
#define smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
/* load-load order: an acquire fence orders every earlier load before later ones */
#define smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif

#if !defined(__SIZEOF_INT128__)
#error "the simulation core needs a 64-bit target with __uint128_t"
#endif

/**
 * ofsim_mul_div_long() - a * b / c, exact, by long division
 * @a: multiplicand
 * @b: multiplier
 * @c: divisor, non-zero
 *
 * The 128-bit product is exact (compilers inline it on 64-bit targets);
 * the kernel has no 128-by-64 division outside x86-64, so the quotient
 * is found one bit at a time.  Needs a * b / c < 2^64 (the high half of
 * the product below @c), as ofsim_mul_div() does.
 *
 * Return: the quotient.
 */
static inline u64 ofsim_mul_div_long(u64 a, u64 b, u64 c)
{
	__uint128_t n = (__uint128_t)a * b;
	u64 hi = (u64)(n >> 64), lo = (u64)n, q = 0;
	int i;

	if (!hi)
		return lo / c;
	for (i = 63; i >= 0; i--) {
		u64 top = hi >> 63;

		hi = hi << 1 | lo >> 63;
		lo <<= 1;
		if (top || hi >= c) {
			hi -= c;
			q |= 1ULL << i;
		}
	}
	return q;
}

/*
 * ofsim_mul_div() - a * b / c, exact, the same on every host (the parity
 * test compares kernel and user-space pages bit for bit).  The caller
 * guarantees a * b / c < 2^64: on x86-64 the kernel's
 * mul_u64_u64_div_u64() is mulq; divq, and divq raises a divide error
 * (an oops) when the quotient does not fit.  Elsewhere the kernel's
 * generic mul_u64_u64_div_u64() drops low bits of large operands (Linux
 * 6.1 lib/math/div64.c: "drop precision"), so the core uses the exact
 * long division instead.  The bound at each call is proven in ofsim.c.
 */
#if defined(__KERNEL__) && defined(CONFIG_X86_64)
#define ofsim_mul_div(a, b, c)	mul_u64_u64_div_u64(a, b, c)
#elif defined(__KERNEL__)
#define ofsim_mul_div(a, b, c)	ofsim_mul_div_long(a, b, c)
#else
static inline u64 ofsim_mul_div(u64 a, u64 b, u64 c)
{
	return (u64)((__uint128_t)a * b / c);
}
#endif

#endif /* _OFSIM_COMPAT_H */
