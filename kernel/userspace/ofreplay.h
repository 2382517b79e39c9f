/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Replay of recorded telemetry into the OptiFiber pages (user space only).
 * The recording is streamed: one pass at open to learn the sites and the
 * time span, then rows are applied in file order as the replay clock
 * passes their timestamps.  Formats and field mapping: kernel/README.md,
 * "Replaying a recording".
 */
#ifndef _OFREPLAY_H
#define _OFREPLAY_H

#include <stdio.h>
#include "../sim/ofsim.h"

enum ofreplay_format {
	OFREPLAY_OPTICAL = 1,	/* Timestamp,Type,ID,BER,OSNR,InputPower,... */
	OFREPLAY_TRAFFIC,	/* timestamp,value (throughput, bit/s) */
	OFREPLAY_REPORT,	/* `optifiber report csv`: timestamp,site,instance,... */
};

#define OFREPLAY_MAX_COLS	32

struct ofreplay_site {
	struct ofsim_sample	v;	/* latest value of every field */
	u64			have;	/* OPTIFIBER_ABSENT_* bits the last row set */
	u64			published;	/* samples written: its sample_seq */
	int			seen;	/* at least one row applied */
	int			fresh;	/* a row applied since the last publish */
};

struct ofreplay {
	FILE			*f;
	int			 format;
	int			 col[OFREPLAY_MAX_COLS];	/* field -> column */
	double			 value_scale;	/* traffic: value * scale = bit/s */
	u32			 nsites;
	char			**names;
	struct ofreplay_site	*st;
	u64			 first_ms, last_ms;
	u64			 rows, line;
	long			 data_start;	/* file offset after the header */
	/* the next row, parsed but not yet due */
	int			 pending;
	u64			 p_ms;
	u32			 p_site;
	u64			 p_have;
	struct ofsim_sample	 p_v;
	char			 err[256];
};

/*
 * Open @path, detect the format from its header and read it once: sites
 * (in order of first appearance), first and last timestamp, row count.
 * @site names the one site of a traffic recording (NULL: "traffic").
 * Returns 0, or -1 with rp->err set (file, line and reason).
 */
int ofreplay_open(struct ofreplay *rp, const char *path, const char *site,
		  double value_scale);

/* Back to the first row (for --loop); the sites keep their last values. */
int ofreplay_rewind(struct ofreplay *rp);

/*
 * One tick at recorded time @until_ms, under the directory seqcount: apply
 * every row up to it, each row of a new second a sample of its own (through
 * ofsim_page_publish(), so the page's recent ring keeps the ones a reader
 * has not seen), then publish every site that has had a row, held rows
 * included.  A site's sample_seq counts its own samples.  Returns 1 at the
 * end of the recording, -1 on error (rp->err), else 0.
 */
int ofreplay_tick(struct ofreplay *rp, struct ofsim *sim, u64 until_ms,
		  u64 now_ns);

void ofreplay_close(struct ofreplay *rp);

/* "optical-testbed", "traffic", "report-csv" */
const char *ofreplay_format_name(int format);

#endif /* _OFREPLAY_H */
