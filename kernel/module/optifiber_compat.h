/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel APIs optifiber.ko uses that changed between the kernels it
 * supports (Debian's 6.1 and 6.12, and newer).  The module is written
 * against the current API; for older kernels this file supplies the
 * current name, built from the old one.  Nothing else in the module tests
 * LINUX_VERSION_CODE.  checkpatch asks in-tree code not to test it at all
 * (in-tree code is written for the one kernel it is merged into); an
 * out-of-tree module must, so the two tests below carry that reason.
 */
#ifndef _OPTIFIBER_COMPAT_H
#define _OPTIFIBER_COMPAT_H

#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/version.h>

/* checkpatch: LINUX_VERSION_CODE CONSTANT_COMPARISON: out of tree, one file asks */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
/* 6.3 made vma->vm_flags read-only; writers use vm_flags_{set,clear}(). */
static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/* checkpatch: LINUX_VERSION_CODE CONSTANT_COMPARISON: as above */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
/*
 * 6.13 replaced hrtimer_init() followed by an assignment to ->function
 * with hrtimer_setup(), and deprecated hrtimer_init().
 */
static inline void hrtimer_setup(struct hrtimer *timer,
				 enum hrtimer_restart (*function)(struct hrtimer *),
				 clockid_t clock_id, enum hrtimer_mode mode)
{
	hrtimer_init(timer, clock_id, mode);
	timer->function = function;
}
#endif

#endif /* _OPTIFIBER_COMPAT_H */
