/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * OptiFiber shared-memory ABI: the layout of /proc/optifiber/myinfo.
 *
 * This header is the one definition of the layout.  The kernel module, the
 * user-space simulator and every reader are checked against it (the
 * TypeScript mirror in exporter/src/abi/layout.ts by a parity test that
 * compiles this file).
 *
 * The mapping is a directory page followed by one page per site:
 *
 *   offset 0                      struct optifiber_dir
 *   offset (1 + i) * page_size    struct optifiber_site for site i
 *
 * All fields are little-endian and naturally aligned; every hole is an
 * explicit __pad or __reserved field.  There is no floating point: values
 * are fixed-point integers in the units OpenConfig uses for optical
 * transport (openconfig-terminal-device, openconfig-platform-transceiver).
 *
 * Consistency (as in the perf ring-buffer page, in the shape of the
 * kernel's seqcount_t): each page begins with a seqcount, seq.
 *
 * Writer (one at a time; the host's lock serialises writers):
 *
 *	WRITE_ONCE(page->seq, page->seq + 1);	(now odd)
 *	smp_wmb();	(the odd seq is visible before any new field)
 *	...store the fields...
 *	smp_wmb();	(every new field is visible before the even seq)
 *	WRITE_ONCE(page->seq, page->seq + 1);	(even again)
 *
 * Reader: wait while seq is odd (a write is in progress), read barrier,
 * copy, read barrier, and start again if seq changed meanwhile:
 *
 *	do {
 *		while ((seq = READ_ONCE(page->seq)) & 1)
 *			cpu_relax();
 *		smp_rmb();
 *		copy = *page;
 *		smp_rmb();
 *	} while (READ_ONCE(page->seq) != seq);
 *
 * The barriers pair up: a reader that sees the even seq of a finished
 * write sees all of its fields (the writer's second smp_wmb() against the
 * reader's first smp_rmb()); a reader that saw any field of a newer write
 * sees a newer seq when it checks again (the writer's first smp_wmb()
 * against the reader's second smp_rmb()).  On x86 these barriers only stop
 * the compiler; on arm64 they are real fences (or acquire loads).  Outside
 * the kernel: smp_rmb() is __atomic_thread_fence(__ATOMIC_ACQUIRE) in C, or
 * Atomics.load() on a SharedArrayBuffer view in JavaScript; cpu_relax() may
 * be empty.  kernel/tests/abi_reader_example.c compiles the loop above,
 * taken from this comment, and runs it against a concurrent writer.
 *
 * The writer updates the directory page's seq around a whole tick, so a
 * reader that sees the same even directory seq before and after reading
 * every site page holds a snapshot of one tick across all sites.
 *
 * Recent samples (ABI minor 2): a page shows the latest sample only, so a
 * reader that polls slower than the writer ticks (a replay at x20, a stalled
 * reader) would miss samples.  As in the perf ring buffer, the page also
 * keeps the last OPTIFIBER_RECENT samples: inside the same write section the
 * writer copies the OPTIFIBER_SAMPLE_LEN bytes of the page that start at
 * OPTIFIBER_SAMPLE_OFFSET (sample_seq .. absent, as just written) into
 * recent[sample_seq % OPTIFIBER_RECENT].  sample_seq is the ring's head.
 * A reader that last saw sample L and now sees head H reads, under the same
 * seqcount section as the page, the entries for L+1 .. H-1 that are still
 * there (at most OPTIFIBER_RECENT - 1 of them); an entry is the sample it
 * names only if its own first eight bytes hold that sample_seq (a writer may
 * skip a sample number for a site it had no value for), and the samples
 * older than the ring are lost, which the reader can count.  An entry has
 * the layout of the page from OPTIFIBER_SAMPLE_OFFSET on, so a reader
 * decodes it with the page's offsets minus OPTIFIBER_SAMPLE_OFFSET (in C:
 * memcpy it to &tmp.sample_seq of a scratch struct optifiber_site).
 *
 * Compatibility: a reader accepts a mapping whose abi_major equals the one
 * it was built for; abi_minor only grows when fields are added in reserved
 * space, which old readers ignore.
 */
#ifndef _UAPI_LINUX_OPTIFIBER_H
#define _UAPI_LINUX_OPTIFIBER_H

#include <linux/types.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the OptiFiber ABI is little-endian"
#endif

#define OPTIFIBER_MAGIC		0x5242464fU	/* "OFBR" */
#define OPTIFIBER_SITE_MAGIC	0x5453464fU	/* "OFST" */
#define OPTIFIBER_ABI_MAJOR	1
#define OPTIFIBER_ABI_MINOR	2	/* 1: absent; 2: recent */
#define OPTIFIBER_PAGE_SIZE	4096
#define OPTIFIBER_MAX_SITES	16384
#define OPTIFIBER_SITE_NAME_LEN	32	/* including the terminating NUL */
#define OPTIFIBER_HOST_LEN	16
#define OPTIFIBER_RECENT	16	/* samples kept in optifiber_site.recent */
#define OPTIFIBER_SAMPLE_OFFSET	24	/* offsetof(struct optifiber_site, sample_seq) */
#define OPTIFIBER_SAMPLE_LEN	232	/* sample_seq .. absent, inclusive */

/* optifiber_dir.flags */
#define OPTIFIBER_DIR_F_LIVE		(1U << 0) /* a writer is attached */
#define OPTIFIBER_DIR_F_SIMULATED	(1U << 1) /* values come from the simulation */
#define OPTIFIBER_DIR_F_REPLAY		(1U << 2) /* values come from a recording */
#define OPTIFIBER_DIR_F_INTERFACE	(1U << 3) /* values come from network interfaces */

/* optifiber_site.flags */
#define OPTIFIBER_SITE_F_VALID		(1U << 0) /* at least one sample written */
/* values come from a network interface (ifaces=): commands are refused */
#define OPTIFIBER_SITE_F_INTERFACE	(1U << 1)

/*
 * optifiber_site.absent: one bit per measurement the writer does not have
 * (a recording without that column, a NIC without FEC statistics or module
 * EEPROM).  The field then holds 0 and must not be read as a value.  A set
 * bit means absent, so writers of ABI minor 0 (reserved space zeroed) and
 * the simulation, which provides everything, leave the word 0.
 */
#define OPTIFIBER_ABSENT_THROUGHPUT	(1ULL << 0)	/* throughput_bps */
#define OPTIFIBER_ABSENT_OFFERED	(1ULL << 1)	/* offered_bps */
#define OPTIFIBER_ABSENT_CAPACITY	(1ULL << 2)	/* capacity_bps */
#define OPTIFIBER_ABSENT_MODULE_CAPACITY (1ULL << 3)	/* module_capacity_bps */
#define OPTIFIBER_ABSENT_CMD_MODULES	(1ULL << 4)	/* cmd_modules(_max) */
#define OPTIFIBER_ABSENT_LINK_STATE	(1ULL << 5)	/* link_state */
#define OPTIFIBER_ABSENT_BYTES		(1ULL << 6)	/* bytes */
#define OPTIFIBER_ABSENT_CRC_ERRORS	(1ULL << 7)	/* crc_errors */
#define OPTIFIBER_ABSENT_FEC_CORRECTED	(1ULL << 8)	/* fec_corrected_bits */
#define OPTIFIBER_ABSENT_FEC_UNCORRECTABLE (1ULL << 9)	/* fec_uncorrectable_blocks */
#define OPTIFIBER_ABSENT_LOS_EVENTS	(1ULL << 10)	/* los_events */
#define OPTIFIBER_ABSENT_PRE_FEC_BER	(1ULL << 11)	/* pre_fec_ber_e18 */
#define OPTIFIBER_ABSENT_POST_FEC_BER	(1ULL << 12)	/* post_fec_ber_e18 */
#define OPTIFIBER_ABSENT_OSNR		(1ULL << 13)	/* osnr_cdb */
#define OPTIFIBER_ABSENT_Q_FACTOR	(1ULL << 14)	/* q_factor_cdb */
#define OPTIFIBER_ABSENT_RX_POWER	(1ULL << 15)	/* rx_power_cdbm */
#define OPTIFIBER_ABSENT_TX_POWER	(1ULL << 16)	/* tx_power_cdbm */
#define OPTIFIBER_ABSENT_CD		(1ULL << 17)	/* chromatic_dispersion_ps_nm */
#define OPTIFIBER_ABSENT_LASER_BIAS	(1ULL << 18)	/* laser_bias_ua */
#define OPTIFIBER_ABSENT_TEMPERATURE	(1ULL << 19)	/* temperature_mc */
#define OPTIFIBER_ABSENT_FAULT		(1ULL << 20)	/* fault .. faults_total */
#define OPTIFIBER_ABSENT_ALL		((1ULL << 21) - 1)

/* optifiber_site.link_state */
#define OPTIFIBER_LINK_DOWN		0	/* loss of signal or frame */
#define OPTIFIBER_LINK_UP		1
#define OPTIFIBER_LINK_DEGRADED		2	/* up, pre-FEC BER above the FEC limit */

/* optifiber_site.fault: the simulation's ground truth, for scoring detectors */
#define OPTIFIBER_FAULT_NONE		0
#define OPTIFIBER_FAULT_FIBER_CUT	1	/* loss of signal, link down */
#define OPTIFIBER_FAULT_OSNR_DEGRADE	2	/* OSNR falls by several dB */
#define OPTIFIBER_FAULT_BER_CREEP	3	/* slow, steady rise of pre-FEC BER */
#define OPTIFIBER_FAULT_AMP_FAILURE	4	/* amplifier failure: rx power drop */
#define OPTIFIBER_FAULT_CRC_BURST	5	/* burst of CRC errors, optics clean */
#define OPTIFIBER_FAULT_TRAFFIC_SURGE	6	/* offered load jumps */
#define OPTIFIBER_FAULT_COUNT		7

/* The directory page, at offset 0 of the mapping. */
struct optifiber_dir {
	__u32	seq;			/* seqcount over a whole tick */
	__u32	magic;			/* OPTIFIBER_MAGIC */
	__u16	abi_major;		/* OPTIFIBER_ABI_MAJOR */
	__u16	abi_minor;		/* OPTIFIBER_ABI_MINOR */
	__u32	page_size;		/* bytes per page (OPTIFIBER_PAGE_SIZE) */
	__u32	site_count;		/* site pages that follow this one */
	__u32	tick_interval_ms;	/* wall-clock time between ticks */
	__u32	time_scale;		/* simulated seconds per tick */
	__u32	flags;			/* OPTIFIBER_DIR_F_* */
	__u64	generation;		/* new value on every load of the writer */
	__u64	tick;			/* ticks completed */
	__u64	update_time_ns;		/* CLOCK_REALTIME at the end of the last tick */
	__u64	sim_time_s;		/* simulated seconds at the last tick */
	__u64	seed;			/* simulation seed */
	char	host[OPTIFIBER_HOST_LEN]; /* writer: "kernel" or "userspace" */
	__u8	__reserved[4008];
};

/* One page per site. */
struct optifiber_site {
	/* header */
	__u32	seq;			/* seqcount over this page */
	__u32	magic;			/* OPTIFIBER_SITE_MAGIC */
	__u16	abi_major;
	__u16	abi_minor;
	__u32	site_index;		/* 0-based position in the mapping */
	__u32	flags;			/* OPTIFIBER_SITE_F_* */
	__u32	__pad0;
	__u64	sample_seq;		/* samples written; 0 = none yet */
	__u64	update_time_ns;		/* CLOCK_REALTIME of this sample */
	__u64	sim_time_s;		/* simulated seconds of this sample */
	char	name[OPTIFIBER_SITE_NAME_LEN]; /* NUL-terminated, NUL-padded */

	/* traffic and capacity */
	__u64	throughput_bps;		/* carried traffic, bit/s */
	__u64	offered_bps;		/* demand, bit/s; above capacity = congestion */
	__u64	capacity_bps;		/* cmd_modules * module_capacity_bps */
	__u64	module_capacity_bps;	/* capacity one CMD module adds, bit/s */
	__u32	cmd_modules;		/* CMD mux/demux modules in service */
	__u32	cmd_modules_max;	/* slots in the chassis */
	__u32	link_state;		/* OPTIFIBER_LINK_* */
	__u32	__pad1;

	/* counters: monotonic since the writer was loaded */
	__u64	bytes;			/* carried bytes */
	__u64	crc_errors;		/* frames failing CRC */
	__u64	fec_corrected_bits;	/* bits corrected by FEC */
	__u64	fec_uncorrectable_blocks; /* FEC blocks beyond correction */
	__u64	los_events;		/* loss-of-signal events */

	/* optical health */
	__u64	pre_fec_ber_e18;	/* pre-FEC bit error ratio * 1e18 */
	__u64	post_fec_ber_e18;	/* post-FEC bit error ratio * 1e18 */
	__s32	osnr_cdb;		/* OSNR, 0.01 dB (0.1 nm reference) */
	__s32	q_factor_cdb;		/* Q-factor, 0.01 dB */
	__s32	rx_power_cdbm;		/* received optical power, 0.01 dBm */
	__s32	tx_power_cdbm;		/* launched optical power, 0.01 dBm */
	__s32	chromatic_dispersion_ps_nm; /* residual CD, ps/nm */
	__u32	laser_bias_ua;		/* laser bias current, microamperes */
	__s32	temperature_mc;		/* module temperature, 0.001 degC */
	__u32	__pad2;

	/* simulation ground truth */
	__u32	fault;			/* OPTIFIBER_FAULT_* in effect */
	__u32	__pad3;
	__u64	fault_start_sim_s;	/* simulated start of the fault; 0 if none */
	__u64	fault_end_sim_s;	/* simulated end of the fault; 0 if none */
	__u64	faults_total;		/* faults started on this site */

	/* since ABI minor 1 */
	__u64	absent;			/* OPTIFIBER_ABSENT_*: fields not measured */

	/* since ABI minor 2: the last samples, see "Recent samples" above */
	__u8	recent[OPTIFIBER_RECENT][OPTIFIBER_SAMPLE_LEN];

	__u8	__reserved[128];
};

_Static_assert(sizeof(struct optifiber_dir) == OPTIFIBER_PAGE_SIZE,
	       "optifiber_dir must fill one page");
_Static_assert(sizeof(struct optifiber_site) == OPTIFIBER_PAGE_SIZE,
	       "optifiber_site must fill one page");
_Static_assert(__builtin_offsetof(struct optifiber_site, sample_seq) ==
	       OPTIFIBER_SAMPLE_OFFSET, "a recent entry starts at sample_seq");
_Static_assert(__builtin_offsetof(struct optifiber_site, absent) + 8 ==
	       OPTIFIBER_SAMPLE_OFFSET + OPTIFIBER_SAMPLE_LEN,
	       "a recent entry ends with absent");

#endif /* _UAPI_LINUX_OPTIFIBER_H */
