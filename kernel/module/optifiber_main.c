// SPDX-License-Identifier: GPL-2.0
/*
 * optifiber.ko: the kernel host of the OptiFiber simulation core.
 *
 * The simulation itself (optics, traffic, faults, command grammar) lives in
 * ../sim/ and is shared with the user-space simulator.  This file only does
 * what a host must do: parse module parameters, allocate the pages, run the
 * tick on time, serialise commands against the tick and export everything
 * through procfs:
 *
 *   /proc/optifiber/myinfo       0444  read(): text summary (seq_file)
 *                                      mmap(): the pages, read-only
 *   /proc/optifiber/cmd_control  0200  write(): command lines, needs
 *                                      CAP_NET_ADMIN
 *
 * Page lifetime.  The pages come from vmalloc_user() and are mapped into
 * user space with remap_vmalloc_range().  That inserts every page with
 * vm_insert_page(), which takes a reference on the struct page, and the
 * mapping carries no vm_operations_struct.  Consequences:
 *  - vfree() at module exit only drops the vmalloc reference; a process
 *    that still maps the pages keeps them alive (with their last contents,
 *    OPTIFIBER_DIR_F_LIVE cleared) until it unmaps them;
 *  - no code of this module runs at munmap() or at process exit, so
 *    unloading the module while the pages are mapped is safe.
 * remap_pfn_range() would be wrong here: it maps raw PFNs without taking
 * page references, so unloading would leave user space mapping freed
 * memory.
 *
 * Locking.  of_lock (a mutex) serialises ofsim_tick(), ofsim_cmd_apply(),
 * the summary reader and the final clearing of OPTIFIBER_DIR_F_LIVE.
 * User space reads the pages without any lock, through the seqcounts the
 * core maintains (see include/uapi/linux/optifiber.h).
 *
 * Timing.  A periodic hrtimer with absolute expiries (hrtimer_forward())
 * queues the tick work on an unbound workqueue, so the tick schedule does
 * not drift with the time each tick takes; ticks that cannot start because
 * the previous one still runs are skipped and counted, not queued up.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "../sim/ofsim.h"
#include "optifiber_compat.h"
#include "optifiber_iface.h"

/*
 * Limits.  The ABI lays out one struct per 4 KiB page and the mapping is
 * made of kernel pages, so other page sizes would need a different ABI;
 * the simulation core computes in u64 with unsigned __int128 products.
 */
#if PAGE_SHIFT != 12
#error "optifiber.ko needs 4 KiB pages (OPTIFIBER_PAGE_SIZE); this kernel has other pages"
#endif
#if BITS_PER_LONG != 64
#error "optifiber.ko needs a 64-bit kernel (u64 arithmetic, unsigned __int128)"
#endif

#define OF_DEFAULT_SITES	"MicrosoftDC,Dallas,Dobbins,Stone"
#define OF_CMD_MAX_WRITE	4096	/* bytes per cmd_control write() */
#define OF_TICK_MS_MIN		10
#define OF_TICK_MS_MAX		60000
#define OF_TIME_SCALE_MAX	3600

static char *sites = OF_DEFAULT_SITES;
module_param(sites, charp, 0444);
MODULE_PARM_DESC(sites, "Comma-separated site names (default " OF_DEFAULT_SITES ")");

static unsigned int nsites;
module_param(nsites, uint, 0444);
MODULE_PARM_DESC(nsites, "If > 0, generate this many sites site-00001.. instead of 'sites'");

static unsigned int tick_ms = 1000;
module_param(tick_ms, uint, 0444);
MODULE_PARM_DESC(tick_ms, "Wall-clock milliseconds per tick (10..60000, default 1000)");

static unsigned int time_scale = 1;
module_param(time_scale, uint, 0444);
MODULE_PARM_DESC(time_scale, "Simulated seconds per tick (1..3600, default 1)");

static unsigned long long seed = 1;
module_param(seed, ullong, 0444);
MODULE_PARM_DESC(seed, "Simulation seed (default 1, as optifiber-sim)");

static unsigned int fault_rate;
module_param(fault_rate, uint, 0444);
MODULE_PARM_DESC(fault_rate, "Random faults per site per simulated day, x1000 (default 0)");

static unsigned long long sim_start;
module_param(sim_start, ullong, 0444);
MODULE_PARM_DESC(sim_start, "Simulated time of tick 0, seconds since the epoch (0: wall clock at load)");

static unsigned long long max_ticks;
module_param(max_ticks, ullong, 0444);
MODULE_PARM_DESC(max_ticks, "Stop ticking after this many ticks (0: never)");

static char *ifaces;
module_param(ifaces, charp, 0444);
MODULE_PARM_DESC(ifaces, "Sites read from network interfaces: IFNAME:SITE[,IFNAME:SITE...] (needs time_scale=1)");

static struct {
	struct mutex		 lock;		/* see "Locking" above */
	struct ofsim		 sim;
	struct ofsim_site	*site_state;
	void			*pages;		/* vmalloc_user() */
	unsigned long		 npages;	/* 1 + site count */
	char			*name_buf;	/* storage behind names[] */
	const char		**names;
	struct proc_dir_entry	*proc_dir;
	struct workqueue_struct	*wq;
	struct work_struct	 tick_work;
	struct hrtimer		 timer;
	ktime_t			 period;
	bool			 done;		/* max_ticks reached or exiting */
	u64			 missed_ticks;	/* timer slots skipped */
	u64			 tick_cost_last_ns;
	u64			 tick_cost_max_ns;
	struct of_ifaces	*ifaces;	/* ifaces=, or NULL */
	u64			 collect_cost_last_ns; /* reading the interfaces */
} of;

/* ------------------------------------------------------------------ tick */

/* The interfaces' driver calls sleep: before of_lock and the seqcounts. */
static void of_collect(void)
{
	u64 t0 = ktime_get_ns();

	if (!of.ifaces)
		return;
	of_ifaces_collect(of.ifaces);
	of.collect_cost_last_ns = ktime_get_ns() - t0;
}

static void of_tick_locked(void)
{
	u64 t0 = ktime_get_ns();
	u64 now = ktime_get_real_ns();
	u64 cost, t;

	lockdep_assert_held(&of.lock);
	if (of.ifaces) {
		t = ofsim_tick_begin(&of.sim, now);
		of_ifaces_publish(of.ifaces, &of.sim, now, t);
		ofsim_tick_end(&of.sim, now);
	} else {
		ofsim_tick(&of.sim, now);
	}
	cost = ktime_get_ns() - t0;
	of.tick_cost_last_ns = cost;
	if (cost > of.tick_cost_max_ns)
		of.tick_cost_max_ns = cost;
	if (max_ticks && of.sim.tick >= max_ticks)
		WRITE_ONCE(of.done, true);
}

static void of_tick_fn(struct work_struct *work)
{
	if (READ_ONCE(of.done))
		return;
	of_collect();
	mutex_lock(&of.lock);
	if (!READ_ONCE(of.done))
		of_tick_locked();
	mutex_unlock(&of.lock);
}

static enum hrtimer_restart of_timer_fn(struct hrtimer *timer)
{
	u64 overruns;

	if (READ_ONCE(of.done))
		return HRTIMER_NORESTART;
	/* Absolute schedule: next expiry = start + k * period, never "now + period". */
	overruns = hrtimer_forward_now(timer, of.period);
	if (overruns > 1)
		of.missed_ticks += overruns - 1;
	if (!queue_work(of.wq, &of.tick_work))
		of.missed_ticks++;	/* previous tick still pending */
	return HRTIMER_RESTART;
}

/* --------------------------------------------------------------- summary */

/* Fixed-point "a.bc" helpers: the kernel has no floating point. */
static void of_fmt_ber(char *buf, size_t len, u64 e18)
{
	u64 v = e18;
	int exp10 = 0;	/* decimal exponent of the leading digit of e18 */

	if (!v) {
		scnprintf(buf, len, "0");
		return;
	}
	while (v >= 1000) {
		v = div_u64(v, 10);
		exp10++;
	}
	/* v now holds the 1..3 leading digits; normalise to 3 digits */
	while (v < 100) {
		v *= 10;
		exp10--;
	}
	exp10 += 2;	/* v = d.dd * 10^2 */
	scnprintf(buf, len, "%llu.%02llue%d", v / 100, v % 100, exp10 - 18);
}

static void of_fmt_cdb(char *buf, size_t len, s32 c)
{
	u32 a = c < 0 ? -(u32)c : (u32)c;

	scnprintf(buf, len, "%s%u.%02u", c < 0 ? "-" : "", a / 100, a % 100);
}

static void *of_seq_start(struct seq_file *m, loff_t *pos)
{
	if (mutex_lock_interruptible(&of.lock))
		return ERR_PTR(-EINTR);
	/* position 0: directory; 1..n: sites */
	if (*pos > of.sim.p.nsites)
		return NULL;
	return pos;
}

static void *of_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	if (*pos > of.sim.p.nsites)
		return NULL;
	return pos;
}

static void of_seq_stop(struct seq_file *m, void *v)
{
	if (!IS_ERR(v))
		mutex_unlock(&of.lock);
}

static int of_seq_show(struct seq_file *m, void *v)
{
	loff_t idx = *(loff_t *)v;
	const struct optifiber_dir *d = of.sim.dir;
	const struct optifiber_site *s;
	char thr[32], cap[32], util[16], osnr[16], ber[24];
	u64 u;

	if (idx == 0) {
		seq_printf(m, "magic\t\t0x%08x\n", d->magic);
		seq_printf(m, "abi\t\t%u.%u\n", d->abi_major, d->abi_minor);
		seq_printf(m, "page_size\t%u\n", d->page_size);
		seq_printf(m, "site_count\t%u\n", d->site_count);
		seq_printf(m, "tick_interval_ms\t%u\n", d->tick_interval_ms);
		seq_printf(m, "time_scale\t%u\n", d->time_scale);
		seq_printf(m, "flags\t\t0x%x%s%s%s\n", d->flags,
			   d->flags & OPTIFIBER_DIR_F_LIVE ? " live" : "",
			   d->flags & OPTIFIBER_DIR_F_SIMULATED ? " simulated" : "",
			   d->flags & OPTIFIBER_DIR_F_INTERFACE ? " interface" : "");
		seq_printf(m, "generation\t%llu\n", d->generation);
		seq_printf(m, "tick\t\t%llu\n", d->tick);
		seq_printf(m, "max_ticks\t%llu\n", max_ticks);
		seq_printf(m, "update_time_ns\t%llu\n", d->update_time_ns);
		seq_printf(m, "sim_time_s\t%llu\n", d->sim_time_s);
		seq_printf(m, "seed\t\t%llu\n", d->seed);
		seq_printf(m, "host\t\t%.*s\n", OPTIFIBER_HOST_LEN, d->host);
		seq_printf(m, "missed_ticks\t%llu\n", of.missed_ticks);
		seq_printf(m, "tick_cost_ns\t%llu last, %llu max\n",
			   of.tick_cost_last_ns, of.tick_cost_max_ns);
		if (ifaces)
			seq_printf(m, "ifaces\t\t%s (read in %llu ns)\n", ifaces,
				   of.collect_cost_last_ns);
		seq_printf(m, "%-31s %12s %12s %8s %7s %9s %10s %-8s %s\n",
			   "site", "thru_gbps", "cap_gbps", "util", "modules",
			   "osnr_db", "pre_fec_ber", "link", "fault");
		return 0;
	}

	s = (const struct optifiber_site *)(of.sim.pages + idx * OPTIFIBER_PAGE_SIZE);
	/* Gbit/s with two decimals */
	u = div_u64(s->throughput_bps, 10000000);
	scnprintf(thr, sizeof(thr), "%llu.%02llu", u / 100, u % 100);
	u = div_u64(s->capacity_bps, 10000000);
	scnprintf(cap, sizeof(cap), "%llu.%02llu", u / 100, u % 100);
	if (s->capacity_bps) {
		/* throughput <= ~2^45 bit/s, so * 10000 cannot overflow */
		u = div64_u64(s->throughput_bps * 10000, s->capacity_bps);
		scnprintf(util, sizeof(util), "%llu.%02llu%%", u / 100, u % 100);
	} else {
		scnprintf(util, sizeof(util), "-");
	}
	of_fmt_cdb(osnr, sizeof(osnr), s->osnr_cdb);
	of_fmt_ber(ber, sizeof(ber), s->pre_fec_ber_e18);
	seq_printf(m, "%-31.*s %12s %12s %8s %3u/%-3u %9s %10s %-8s %s\n",
		   OPTIFIBER_SITE_NAME_LEN, s->name, thr, cap, util,
		   s->cmd_modules, s->cmd_modules_max, osnr, ber,
		   ofsim_link_name(s->link_state), ofsim_fault_name(s->fault));
	return 0;
}

static const struct seq_operations of_seq_ops = {
	.start	= of_seq_start,
	.next	= of_seq_next,
	.stop	= of_seq_stop,
	.show	= of_seq_show,
};

static int of_info_open(struct inode *inode, struct file *file)
{
	return seq_open(file, &of_seq_ops);
}

/*
 * Read-only mapping of the pages.  Any sub-range is allowed (a reader may
 * map the directory page first to learn site_count).  Writable mappings
 * are refused, and VM_MAYWRITE is cleared so that mprotect() cannot make
 * the mapping writable later.
 */
static int of_info_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long npages = len >> PAGE_SHIFT;

	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	if (vma->vm_pgoff >= of.npages || npages > of.npages - vma->vm_pgoff)
		return -EINVAL;
	vm_flags_clear(vma, VM_MAYWRITE);
	return remap_vmalloc_range(vma, of.pages, vma->vm_pgoff);
}

static const struct proc_ops of_info_ops = {
	.proc_open	= of_info_open,
	.proc_read_iter	= seq_read_iter,
	.proc_lseek	= seq_lseek,
	.proc_release	= seq_release,
	.proc_mmap	= of_info_mmap,
};

/* ----------------------------------------------------------- cmd_control */

static int of_cmd_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	return 0;
}

/*
 * One write() is one batch of command lines, parsed completely before
 * anything is applied; a batch is applied atomically with respect to the
 * tick and to other writers.  The file offset is ignored.
 */
static ssize_t of_cmd_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	struct ofsim_cmd *cmds;
	const char *err = NULL;
	int err_line = 0;
	char *buf, *nul;
	int n, max = 0, ret;
	size_t i;

	/* The opener's credentials: a privileged fd may be handed down. */
	if (!file_ns_capable(file, &init_user_ns, CAP_NET_ADMIN))
		return -EPERM;
	if (len == 0 || len > OF_CMD_MAX_WRITE) {
		pr_warn_ratelimited("cmd_control: rejected write of %zu bytes (1..%d)\n",
				    len, OF_CMD_MAX_WRITE);
		return -EINVAL;
	}

	buf = memdup_user(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);

	nul = memchr(buf, '\0', len);
	if (nul) {
		for (i = 0, err_line = 1; buf + i < nul; i++)
			err_line += buf[i] == '\n';
		pr_warn_ratelimited("cmd_control: line %d: NUL byte\n", err_line);
		ret = -EINVAL;
		goto out_buf;
	}

	/* one command per line at most; the parser rejects a missing '\n' */
	for (i = 0; i < len; i++)
		max += buf[i] == '\n';
	if (!max)
		max = 1;
	/* up to 4096 lines * 20 bytes: the user picks the size, avoid order-5 kmalloc */
	cmds = kvmalloc_array(max, sizeof(*cmds), GFP_KERNEL);
	if (!cmds) {
		ret = -ENOMEM;
		goto out_buf;
	}

	/* site names and parameters are immutable after load: no lock needed */
	n = ofsim_cmd_parse(&of.sim, buf, len, cmds, max, &err, &err_line);
	if (n < 0) {
		pr_warn_ratelimited("cmd_control: line %d: %s\n", err_line,
				    err ? err : "invalid command");
		ret = n;
		goto out_cmds;
	}

	mutex_lock(&of.lock);
	ret = ofsim_cmd_apply(&of.sim, cmds, n, &err);
	mutex_unlock(&of.lock);
	if (ret < 0) {
		pr_warn_ratelimited("cmd_control: %s\n", err ? err : "command not applied");
		goto out_cmds;
	}
	ret = len;

out_cmds:
	kvfree(cmds);
out_buf:
	kfree(buf);
	return ret;
}

static const struct proc_ops of_cmd_ops = {
	.proc_open	= of_cmd_open,
	.proc_write	= of_cmd_write,
	.proc_lseek	= noop_llseek,
};

/* ------------------------------------------------------------ load/unload */

static int __init of_parse_params(u32 *count)
{
	char *p, *tok;
	u32 n = 0, i;

	if (tick_ms < OF_TICK_MS_MIN || tick_ms > OF_TICK_MS_MAX) {
		pr_err("tick_ms=%u out of range %u..%u\n", tick_ms,
		       OF_TICK_MS_MIN, OF_TICK_MS_MAX);
		return -EINVAL;
	}
	if (time_scale < 1 || time_scale > OF_TIME_SCALE_MAX) {
		pr_err("time_scale=%u out of range 1..%u\n", time_scale,
		       OF_TIME_SCALE_MAX);
		return -EINVAL;
	}
	if (nsites > OPTIFIBER_MAX_SITES) {
		pr_err("nsites=%u out of range 0..%u\n", nsites, OPTIFIBER_MAX_SITES);
		return -EINVAL;
	}

	if (nsites) {
		n = nsites;
	} else {
		if (!sites || !*sites) {
			pr_err("sites is empty\n");
			return -EINVAL;
		}
		n = 1;
		for (p = sites; *p; p++)
			n += *p == ',';
		if (n > OPTIFIBER_MAX_SITES) {
			pr_err("sites lists %u names, more than %u\n", n,
			       OPTIFIBER_MAX_SITES);
			return -EINVAL;
		}
	}

	of.names = kvcalloc(n, sizeof(*of.names), GFP_KERNEL);
	of.name_buf = kvzalloc(nsites ? (size_t)n * OPTIFIBER_SITE_NAME_LEN :
			       strlen(sites) + 1, GFP_KERNEL);
	if (!of.names || !of.name_buf)
		return -ENOMEM;

	if (nsites) {
		for (i = 0; i < n; i++) {
			char *name = of.name_buf + (size_t)i * OPTIFIBER_SITE_NAME_LEN;

			snprintf(name, OPTIFIBER_SITE_NAME_LEN, "site-%05u", i + 1);
			of.names[i] = name;
		}
	} else {
		/* ofsim_init() validates each name (charset, length, unique) */
		strcpy(of.name_buf, sites);
		p = of.name_buf;
		i = 0;
		while ((tok = strsep(&p, ",")) != NULL)
			of.names[i++] = tok;
	}
	*count = n;
	return 0;
}

static void of_free(void)
{
	vfree(of.pages);
	kvfree(of.site_state);
	kvfree(of.names);
	kvfree(of.name_buf);
}

static int __init optifiber_init(void)
{
	struct ofsim_params p = {};
	struct proc_dir_entry *e;
	const char *err = NULL;
	u32 n = 0;
	int ret;

	BUILD_BUG_ON(PAGE_SIZE != OPTIFIBER_PAGE_SIZE);
	mutex_init(&of.lock);

	ret = of_parse_params(&n);
	if (ret)
		goto err_free;

	p.seed = seed;
	p.sim_start_s = sim_start ? sim_start : ktime_get_real_seconds();
	p.tick_ms = tick_ms;
	p.time_scale = time_scale;
	p.fault_rate = fault_rate;
	p.nsites = n;

	of.npages = 1 + (unsigned long)n;
	of.pages = vmalloc_user(of.npages * PAGE_SIZE);	/* zeroed, VM_USERMAP */
	of.site_state = kvzalloc(ofsim_sites_size(n), GFP_KERNEL);
	if (!of.pages || !of.site_state) {
		ret = -ENOMEM;
		goto err_free;
	}

	ret = ofsim_init(&of.sim, &p, of.names, of.site_state, of.pages,
			 "kernel", ktime_get_real_ns(), &err);
	if (ret) {
		pr_err("invalid parameters: %s\n", err ? err : "rejected by the simulation");
		ret = -EINVAL;
		goto err_free;
	}
	of.sim.dir->flags |= OPTIFIBER_DIR_F_LIVE | OPTIFIBER_DIR_F_SIMULATED;

	if (ifaces && *ifaces) {
		/* a link's rates and counters run in real time */
		if (time_scale != 1) {
			pr_err("ifaces needs time_scale=1 (got %u)\n", time_scale);
			ret = -EINVAL;
			goto err_free;
		}
		ret = of_ifaces_create(ifaces, &of.sim, &of.ifaces);
		if (ret)
			goto err_free;
	}

	of.wq = alloc_workqueue("optifiber", WQ_UNBOUND, 1);
	if (!of.wq) {
		ret = -ENOMEM;
		goto err_ifaces;
	}
	INIT_WORK(&of.tick_work, of_tick_fn);

	/* first sample at load, so readers never see an empty mapping */
	of_collect();
	mutex_lock(&of.lock);
	of_tick_locked();
	mutex_unlock(&of.lock);

	of.proc_dir = proc_mkdir("optifiber", NULL);
	if (!of.proc_dir) {
		ret = -ENOMEM;
		goto err_wq;
	}
	/*
	 * Size stays 0 as for any procfs file: read() returns the text summary,
	 * whose length is not that of the mapping.  Mappers learn the length
	 * from the directory page (site_count).
	 */
	e = proc_create("myinfo", 0444, of.proc_dir, &of_info_ops);
	if (!e || !proc_create("cmd_control", 0200, of.proc_dir, &of_cmd_ops)) {
		ret = -ENOMEM;
		goto err_proc;
	}

	of.period = ms_to_ktime(tick_ms);
	hrtimer_setup(&of.timer, of_timer_fn, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
	if (!READ_ONCE(of.done))
		hrtimer_start(&of.timer, ktime_add(ktime_get(), of.period),
			      HRTIMER_MODE_ABS);

	pr_info("%u sites, tick %u ms, time_scale %u, seed %llu, fault_rate %u, max_ticks %llu\n",
		n, tick_ms, time_scale, p.seed, fault_rate, max_ticks);
	return 0;

err_proc:
	proc_remove(of.proc_dir);
err_wq:
	destroy_workqueue(of.wq);
err_ifaces:
	of_ifaces_destroy(of.ifaces);
err_free:
	of_free();
	return ret;
}

static void __exit optifiber_exit(void)
{
	struct optifiber_dir *d = of.sim.dir;

	/* 1. stop ticking: no timer callback, no tick work after this */
	WRITE_ONCE(of.done, true);
	hrtimer_cancel(&of.timer);
	destroy_workqueue(of.wq);	/* drains tick_work */

	/* 2. tell readers that still map the pages that the writer is gone */
	mutex_lock(&of.lock);
	ofsim_seq_write_begin(&d->seq);
	WRITE_ONCE(d->flags, d->flags & ~OPTIFIBER_DIR_F_LIVE);
	ofsim_seq_write_end(&d->seq);
	mutex_unlock(&of.lock);

	/* 3. waits for in-flight read/write/mmap calls and closes open files */
	proc_remove(of.proc_dir);

	/* 4. no tick, no command (sim.external) any more: let go of the devices */
	of_ifaces_destroy(of.ifaces);

	/* 5. mapped pages stay alive through their page references */
	of_free();
	pr_info("unloaded after %llu ticks (%llu missed)\n", of.sim.tick,
		of.missed_ticks);
}

module_init(optifiber_init);
module_exit(optifiber_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("OptiFiber");
MODULE_DESCRIPTION("OptiFiber simulated fiber-optic DCI telemetry pages");
