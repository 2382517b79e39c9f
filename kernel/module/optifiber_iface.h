/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The network-interface source of optifiber.ko (module parameter ifaces=):
 * site pages filled from real links instead of the simulation.
 */
#ifndef _OPTIFIBER_IFACE_H
#define _OPTIFIBER_IFACE_H

#include <linux/printk.h>
#include <linux/types.h>

struct ofsim;
struct of_ifaces;

#if IS_ENABLED(CONFIG_NET)

/**
 * of_ifaces_create() - parse ifaces= and start following the interfaces
 * @spec: "IFNAME:SITE[,IFNAME:SITE...]", each site one of @sim's sites
 * @sim: the simulation, initialised; its external[] and dir_flags are set
 * @out: the new collector
 *
 * Registers a netdevice notifier, which binds each configured name to its
 * device (now or when it appears) and lets go of it when the device is
 * unregistered or renamed away.  Logs the reason of a refusal.
 *
 * Return: 0, -EINVAL (bad @spec) or -ENOMEM.
 */
int of_ifaces_create(const char *spec, struct ofsim *sim,
		     struct of_ifaces **out);

/**
 * of_ifaces_collect() - read every mapped interface, may sleep
 * @x: the collector
 *
 * Takes RTNL, as the ethtool core does around driver calls.  The samples
 * are kept for of_ifaces_publish().  Call from the tick work only.
 */
void of_ifaces_collect(struct of_ifaces *x);

/**
 * of_ifaces_publish() - write the samples of the last collection
 * @x: the collector
 * @sim: the simulation, between ofsim_tick_begin() and ofsim_tick_end()
 * @now_ns: CLOCK_REALTIME of the tick
 * @sim_time_s: what ofsim_tick_begin() returned
 *
 * No sleeping: runs while readers wait on the directory seqcount.
 */
void of_ifaces_publish(struct of_ifaces *x, struct ofsim *sim, u64 now_ns,
		       u64 sim_time_s);

/**
 * of_ifaces_destroy() - unregister the notifier, drop every device
 * @x: the collector, or NULL
 *
 * The tick work must not run any more.
 */
void of_ifaces_destroy(struct of_ifaces *x);

#else /* a kernel without networking (the debug kernel): no interfaces */

static inline int of_ifaces_create(const char *spec, struct ofsim *sim,
				   struct of_ifaces **out)
{
	pr_err("ifaces needs a kernel with networking (CONFIG_NET)\n");
	return -EINVAL;
}

static inline void of_ifaces_collect(struct of_ifaces *x) {}
static inline void of_ifaces_publish(struct of_ifaces *x, struct ofsim *sim,
				     u64 now_ns, u64 sim_time_s) {}
static inline void of_ifaces_destroy(struct of_ifaces *x) {}

#endif

#endif /* _OPTIFIBER_IFACE_H */
