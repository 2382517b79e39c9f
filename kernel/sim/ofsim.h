/* SPDX-License-Identifier: GPL-2.0 */
/*
 * OptiFiber simulation core: one model of the optics and the traffic,
 * compiled into the kernel module and into the user-space simulator.
 *
 * Host-neutral C: integer arithmetic only, no allocation, no locking, no
 * logging and no clock reads.  The host (kernel module or user-space
 * program) allocates memory, owns the lock that serialises ofsim_tick()
 * against ofsim_cmd_apply(), reads the wall clock, and reports errors.
 * Given the same parameters, site names and sequence of calls, both hosts
 * produce identical page bytes (apart from the wall-clock fields
 * update_time_ns and generation); a parity test checks this.
 */
#ifndef _OFSIM_H
#define _OFSIM_H

#include "ofsim_compat.h"
#include "../include/uapi/linux/optifiber.h"

#define OFSIM_CMD_MAX_LINE	256	/* bytes, including the newline */
#define OFSIM_CMD_MAX_DURATION	(7 * 86400)	/* simulated seconds */
#define OFSIM_CMD_MAX_MODULES	64	/* per site, and per command */

/**
 * struct ofsim_params - what a simulation is made of, checked by ofsim_init()
 * @seed: PRNG seed: same seed, same simulation
 * @sim_start_s: simulated time of tick 0 (seconds since epoch)
 * @tick_ms: wall-clock milliseconds per tick (10..60000)
 * @time_scale: simulated seconds per tick (1..3600)
 * @fault_rate: random faults per site per simulated day, x1000
 * @nsites: number of sites, 1..OPTIFIBER_MAX_SITES
 */
struct ofsim_params {
	u64	seed;
	u64	sim_start_s;
	u32	tick_ms;
	u32	time_scale;
	u32	fault_rate;
	u32	nsites;
};

/* Per-site state: private to the simulation core. */
struct ofsim_site;

/**
 * struct ofsim - one simulation, laid out by ofsim_init()
 * @p: its parameters
 * @tick: ticks completed
 * @sites: nsites entries of per-site state, host-allocated
 * @dir: page 0 of the mapping
 * @pages: page 0; site i at (1 + i) pages
 * @external: host-owned, nsites bytes, or NULL: a non-zero byte marks a
 *	site whose page another source writes (the kernel's network-interface
 *	collector).  ofsim_tick() neither simulates nor publishes it, and
 *	ofsim_cmd_apply() refuses commands for it.  Set before the first
 *	tick, never changed afterwards.
 * @dir_flags: OPTIFIBER_DIR_F_* each tick writes
 */
struct ofsim {
	struct ofsim_params	 p;
	u64			 tick;
	struct ofsim_site	*sites;
	struct optifiber_dir	*dir;
	u8			*pages;
	const u8		*external;
	u32			 dir_flags;
};

/**
 * enum ofsim_cmd_op - the action of a cmd_control line
 * @OFSIM_CMD_ADD_MODULES: site=NAME cmd_add=N
 * @OFSIM_CMD_REMOVE_MODULES: site=NAME cmd_remove=N
 * @OFSIM_CMD_FAULT: site=NAME fault=KIND [duration=S]
 * @OFSIM_CMD_FAULT_CLEAR: site=NAME fault=clear
 */
enum ofsim_cmd_op {
	OFSIM_CMD_ADD_MODULES = 1,
	OFSIM_CMD_REMOVE_MODULES,
	OFSIM_CMD_FAULT,
	OFSIM_CMD_FAULT_CLEAR,
};

/**
 * struct ofsim_cmd - a parsed cmd_control line, applied only after the
 *	whole write parsed
 * @site: site index
 * @op: enum ofsim_cmd_op
 * @count: modules for ADD/REMOVE
 * @fault: OPTIFIBER_FAULT_* for FAULT
 * @duration_s: simulated seconds for FAULT
 */
struct ofsim_cmd {
	u32	site;
	u32	op;
	u32	count;
	u32	fault;
	u32	duration_s;
};

/**
 * ofsim_seq_write_begin() - begin a write of a page under its seqcount
 * @seq: the page's seq field (struct optifiber_dir or optifiber_site)
 *
 * Makes @seq odd: readers wait or retry until ofsim_seq_write_end().
 * Writers must be serialised by the host's lock.  The protocol and the
 * reader's half are in include/uapi/linux/optifiber.h.
 */
static inline void ofsim_seq_write_begin(__u32 *seq)
{
	WRITE_ONCE(*seq, *seq + 1);
	/*
	 * The odd seq before any field store: a reader that sees a new field
	 * sees a changed seq at its re-check (pairs with its second smp_rmb()).
	 */
	smp_wmb();
}

/**
 * ofsim_seq_write_end() - end a write begun by ofsim_seq_write_begin()
 * @seq: the same seq field
 */
static inline void ofsim_seq_write_end(__u32 *seq)
{
	/*
	 * Every field store before the even seq: a reader that sees the even
	 * seq sees the whole write (pairs with its first smp_rmb()).
	 */
	smp_wmb();
	WRITE_ONCE(*seq, *seq + 1);
}

/*
 * One sample of a site's measurements, in the units of struct
 * optifiber_site; @absent holds OPTIFIBER_ABSENT_* for what the source
 * does not measure (those fields are ignored and published as 0).
 */
struct ofsim_sample {
	u64	sample_seq;
	u64	update_time_ns;
	u64	sim_time_s;
	u64	throughput_bps;
	u64	offered_bps;
	u64	capacity_bps;
	u64	module_capacity_bps;
	u32	cmd_modules;
	u32	cmd_modules_max;
	u32	link_state;
	u32	laser_bias_ua;
	u64	bytes;
	u64	crc_errors;
	u64	fec_corrected_bits;
	u64	fec_uncorrectable_blocks;
	u64	los_events;
	u64	pre_fec_ber_e18;
	u64	post_fec_ber_e18;
	s32	osnr_cdb;
	s32	q_factor_cdb;
	s32	rx_power_cdbm;
	s32	tx_power_cdbm;
	s32	chromatic_dispersion_ps_nm;
	s32	temperature_mc;
	u32	fault;
	u64	fault_start_sim_s;
	u64	fault_end_sim_s;
	u64	faults_total;
	u64	absent;
};

/**
 * ofsim_page_publish() - write one sample into a site page
 * @pg: the site page
 * @s: the sample
 *
 * The page's writer side of the seqcount protocol of optifiber.h; the
 * caller serialises writers of @pg.  Sets SITE_F_VALID.  No sleeping.
 */
void ofsim_page_publish(struct optifiber_site *pg,
			const struct ofsim_sample *s);

/**
 * ofsim_sites_size() - bytes the host allocates for sim->sites
 * @nsites: number of sites
 *
 * Return: the size in bytes.
 */
size_t ofsim_sites_size(u32 nsites);

/**
 * ofsim_init() - validate the parameters and lay out the pages
 * @sim: the simulation to initialise
 * @p: parameters
 * @names: nsites site names
 * @sites: host memory for the site state, ofsim_sites_size(nsites) bytes
 * @pages: host memory for the pages, zeroed
 * @host: writer name for the directory page ("kernel", "userspace")
 * @generation: new value on every load of the writer
 * @err: set to a static message on error
 *
 * Validate @p and @names (nsites NUL-terminated names, unique, 1..31 chars
 * of [A-Za-z0-9_.-]) and lay out the pages: directory page and one zeroed
 * page per site with magic, ABI version, index, name and the initial
 * modules/capacity; the directory's flags are LIVE | SIMULATED (the host
 * clears LIVE under the directory seqcount when it detaches), its seq 0.
 * No sample yet: SITE_F_VALID comes with the first ofsim_tick().  The
 * site array doubles as scratch space for the duplicate-name check.
 * @pages must be
 * (1 + nsites) * OPTIFIBER_PAGE_SIZE zeroed bytes; @sites must be
 * ofsim_sites_size(nsites) bytes.
 *
 * Return: 0, or -EINVAL with *@err set to a static message.
 */
int ofsim_init(struct ofsim *sim, const struct ofsim_params *p,
	       const char *const *names, struct ofsim_site *sites, void *pages,
	       const char *host, u64 generation, const char **err);

/**
 * ofsim_tick() - advance the simulation by one tick and publish it
 * @sim: the simulation
 * @now_ns: CLOCK_REALTIME of this tick
 *
 * Advance the simulation by one tick and publish every site page under its
 * seqcount, the whole tick under the directory seqcount.  @now_ns is
 * CLOCK_REALTIME, written to update_time_ns only.  Cost: a few hundred ns
 * per site, no allocation, no sleeping.
 */
void ofsim_tick(struct ofsim *sim, u64 now_ns);

/**
 * ofsim_tick_begin() - first half of ofsim_tick(), for hosts with external sites
 * @sim: the simulation
 * @now_ns: CLOCK_REALTIME of this tick
 *
 * Opens the directory seqcount and simulates and publishes every site
 * that is not external.  The host then publishes its external sites with
 * ofsim_page_publish() (nothing that sleeps: readers spin while the
 * directory seq is odd) and closes the tick with ofsim_tick_end().
 *
 * Return: the simulated time of this tick, seconds.
 */
u64 ofsim_tick_begin(struct ofsim *sim, u64 now_ns);

/**
 * ofsim_tick_end() - second half of ofsim_tick()
 * @sim: the simulation
 * @now_ns: the same time as given to ofsim_tick_begin()
 *
 * Writes the directory's tick, times and flags (sim->dir_flags) and
 * closes the directory seqcount.
 */
void ofsim_tick_end(struct ofsim *sim, u64 now_ns);

/**
 * ofsim_site_page() - the page of site @i
 * @sim: the simulation
 * @i: site index, below nsites
 *
 * Return: the site's page.
 */
static inline struct optifiber_site *ofsim_site_page(struct ofsim *sim, u32 i)
{
	return (struct optifiber_site *)(sim->pages +
					 (size_t)(i + 1) * OPTIFIBER_PAGE_SIZE);
}

/**
 * ofsim_cmd_parse() - parse one cmd_control write
 * @sim: the simulation (site names, read only)
 * @buf: the bytes written
 * @len: their number
 * @cmds: output array
 * @max: its length
 * @err: set to a static message on error
 * @err_line: set to the 1-based line of the error
 *
 * Parse a cmd_control write of @len bytes: one or more lines, each ending
 * in '\n', each at most OFSIM_CMD_MAX_LINE bytes.  Grammar per line:
 * space-separated key=value pairs, site= required, exactly one action:
 *   cmd_add=1..64 | cmd_remove=1..64 | fault=KIND [duration=1..604800] |
 *   fault=clear
 * KIND: fiber_cut osnr_degrade ber_creep amp_failure crc_burst traffic_surge
 * Unknown or repeated keys, unknown sites, out-of-range or malformed
 * numbers (signs, leading zeros, more than 10 digits), missing newline,
 * overlong lines, empty lines, leading/trailing/double spaces, NUL and
 * other non-printable bytes are errors.  duration= defaults to 300 and is
 * only allowed with fault=KIND.  Nothing is applied.
 *
 * Return: the number of commands filled in (at most @max), or -EINVAL with
 * *@err and *@err_line set.
 */
int ofsim_cmd_parse(const struct ofsim *sim, const char *buf, size_t len,
		    struct ofsim_cmd *cmds, int max, const char **err,
		    int *err_line);

/**
 * ofsim_cmd_apply() - apply parsed commands, all or nothing
 * @sim: the simulation; the host holds the lock that serialises ticks
 * @cmds: commands from ofsim_cmd_parse()
 * @n: their number
 * @err: set to a static message on error
 *
 * Module changes are cumulative in order; a FAULT starts at the next tick
 * and replaces any current fault, FAULT_CLEAR ends it at the next tick.
 * Effects show in the pages at the next tick; the pages are not touched.
 *
 * Return: 0, or -ERANGE when a command would take cmd_modules outside
 * 1..cmd_modules_max, or -EOPNOTSUPP when a command names an external
 * site (a network interface: there are no modules to add and no faults to
 * inject); in both cases none of the commands is applied (-EINVAL for a
 * malformed struct ofsim_cmd).
 */
int ofsim_cmd_apply(struct ofsim *sim, const struct ofsim_cmd *cmds, int n,
		    const char **err);

/**
 * ofsim_fault_name() - the name of a fault, for logs and summaries
 * @fault: OPTIFIBER_FAULT_*
 *
 * Return: a static string: "none", or the KIND cmd_control's fault= takes
 * ("fiber_cut", ...), or "unknown" for a value outside OPTIFIBER_FAULT_*.
 */
const char *ofsim_fault_name(u32 fault);

/**
 * ofsim_link_name() - the name of a link state, for logs and summaries
 * @link_state: OPTIFIBER_LINK_*
 *
 * Return: a static string: "down", "up", "degraded", or "unknown".
 */
const char *ofsim_link_name(u32 link_state);

#endif /* _OFSIM_H */
