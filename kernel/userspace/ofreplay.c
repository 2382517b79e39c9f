// SPDX-License-Identifier: GPL-2.0
/*
 * Replay of recorded telemetry: CSV rows -> struct ofsim_sample ->
 * ofsim_page_publish(), the page writer the simulation uses.  Only what a
 * row carries is published; every other field is marked absent.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ofreplay.h"

#define MAX_LINE	8192
#define MAX_SITES	1024
#define OFREPLAY_REORDER_MS	60000

/* Columns the formats use; rp->col[] maps each to its position (or -1). */
enum {
	C_TS, C_TYPE, C_ID, C_BER, C_OSNR, C_INP, C_OUTP,	/* optical */
	C_VALUE,						/* traffic */
	C_SITE, C_THR, C_OFF, C_CAP, C_MODS, C_MODSMAX, C_LINK,	/* report */
	C_OSNRAVG, C_BERMAX,
	C_COUNT
};

static const char *const report_cols[C_COUNT] = {
	[C_TS] = "timestamp", [C_SITE] = "site",
	[C_THR] = "throughput_avg_bytes_per_second",
	[C_OFF] = "offered_load_avg_bytes_per_second",
	[C_CAP] = "capacity_bytes_per_second",
	[C_MODS] = "cmd_modules", [C_MODSMAX] = "cmd_modules_max",
	[C_LINK] = "link_up_avg_ratio", [C_OSNRAVG] = "osnr_avg_db",
	[C_BERMAX] = "pre_fec_ber_max_ratio",
};

static const char *const optical_cols[C_COUNT] = {
	[C_TS] = "Timestamp", [C_TYPE] = "Type", [C_ID] = "ID",
	[C_BER] = "BER", [C_OSNR] = "OSNR", [C_INP] = "InputPower",
	[C_OUTP] = "OutputPower",
};

static int fail(struct ofreplay *rp, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(rp->err, sizeof(rp->err), "line %llu: ",
		     (unsigned long long)rp->line);
	va_start(ap, fmt);
	vsnprintf(rp->err + n, sizeof(rp->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

const char *ofreplay_format_name(int format)
{
	switch (format) {
	case OFREPLAY_OPTICAL:
		return "optical-testbed";
	case OFREPLAY_TRAFFIC:
		return "traffic";
	case OFREPLAY_REPORT:
		return "report-csv";
	}
	return "unknown";
}

/*
 * Split an RFC 4180 line in place (quotes removed, "" unescaped).  Returns
 * the number of fields, or -1 for an unterminated quote or too many fields.
 */
static int split_csv(char *s, char **f, int max)
{
	int n = 0;
	char end;

	for (;;) {
		char *w = s;

		if (n == max)
			return -1;
		f[n++] = w;
		if (*s == '"') {
			for (s++;;) {
				if (!*s)
					return -1;
				if (*s == '"' && s[1] == '"') {
					*w++ = '"';
					s += 2;
				} else if (*s != '"') {
					*w++ = *s++;
				} else {
					s++;
					break;
				}
			}
			if (*s && *s != ',')
				return -1;
		} else {
			while (*s && *s != ',')
				*w++ = *s++;
		}
		end = *s;
		*w = '\0';
		if (!end)
			return n;
		s++;
	}
}

/* Read one line without its newline (CRLF too); 0 at EOF, -1 if too long. */
static int read_line(struct ofreplay *rp, char *buf)
{
	size_t l;

	if (!fgets(buf, MAX_LINE, rp->f))
		return 0;
	rp->line++;
	l = strlen(buf);
	if (l == MAX_LINE - 1 && buf[l - 1] != '\n')
		return fail(rp, "longer than %d bytes", MAX_LINE - 2);
	while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
		buf[--l] = '\0';
	return 1;
}

/*
 * Unix seconds (optionally with a fraction), or an ISO 8601 / RFC 3339 UTC
 * time "YYYY-MM-DD[T ]HH:MM:SS[.fff][Z]", to milliseconds.
 */
static int parse_time(const char *s, u64 *ms)
{
	struct tm tm = { 0 };
	double frac = 0;
	char *end;
	time_t t;

	if (isdigit((unsigned char)s[0]) && !strchr(s, '-')) {
		double v = strtod(s, &end);

		if (*end || !(v >= 0) || v > 1e13)
			return -1;
		*ms = (u64)llround(v * 1000);
		return 0;
	}
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || (*end != 'T' && *end != ' '))
		return -1;
	end = strptime(end + 1, "%H:%M:%S", &tm);
	if (!end)
		return -1;
	if (*end == '.')
		frac = strtod(end, &end);
	if (*end == 'Z')
		end++;
	if (*end)
		return -1;
	t = timegm(&tm);
	if (t < 0)
		return -1;
	*ms = (u64)t * 1000 + (u64)llround(frac * 1000);
	return 0;
}

/* A number, or "no value" for an empty cell, NaN or an infinity. */
static int parse_num(struct ofreplay *rp, const char *s, const char *what,
		     double *v, int *have)
{
	char *end;

	*have = 0;
	if (!*s || !strcmp(s, "NaN") || !strcmp(s, "+Inf") ||
	    !strcmp(s, "-Inf"))
		return 0;
	*v = strtod(s, &end);
	if (*end || end == s || !isfinite(*v))
		return fail(rp, "%s: not a number: \"%.40s\"", what, s);
	*have = 1;
	return 0;
}

/* Site names follow the ABI: 1..31 of [A-Za-z0-9_.-]; others become '-'. */
static void site_name(const char *in, char *out)
{
	size_t i;

	for (i = 0; in[i] && i < OPTIFIBER_SITE_NAME_LEN - 1; i++) {
		unsigned char c = (unsigned char)in[i];

		out[i] = isalnum(c) || c == '_' || c == '.' || c == '-' ?
			 (char)c : '-';
	}
	out[i] = '\0';
}

static int find_site(struct ofreplay *rp, const char *raw, int add)
{
	char name[OPTIFIBER_SITE_NAME_LEN];
	u32 i;

	site_name(raw, name);
	if (!name[0])
		return fail(rp, "empty site or device name");
	for (i = 0; i < rp->nsites; i++)
		if (!strcmp(rp->names[i], name))
			return (int)i;
	if (!add)
		return fail(rp, "site \"%s\" was not in the first pass", name);
	if (rp->nsites == MAX_SITES)
		return fail(rp, "more than %d sites", MAX_SITES);
	if (!(rp->nsites & (rp->nsites - 1)) || !rp->nsites) {
		char **n = realloc(rp->names, sizeof(*n) *
				   (rp->nsites ? rp->nsites * 2 : 8));

		if (!n)
			return fail(rp, "out of memory");
		rp->names = n;
	}
	rp->names[rp->nsites] = strdup(name);
	if (!rp->names[rp->nsites])
		return fail(rp, "out of memory");
	return (int)rp->nsites++;
}

static s32 to_cent(double v)
{
	if (v > 2e7)
		v = 2e7;
	if (v < -2e7)
		v = -2e7;
	return (s32)lround(v * 100);
}

static u64 to_u64(double v)
{
	if (!(v > 0))
		return 0;
	return v >= 1.8e19 ? UINT64_MAX : (u64)llround(v);
}

static u64 ber_e18(double ber)
{
	if (!(ber > 0))
		return 0;
	return ber >= 1 ? 1000000000000000000ULL : (u64)llround(ber * 1e18);
}

/* One number cell into the sample: @bit marks it present. */
#define CELL(col_id, what, bit, stmt) do {				\
	double v;							\
	int h;								\
	if (rp->col[col_id] >= 0) {					\
		if (parse_num(rp, f[rp->col[col_id]], what, &v, &h))	\
			return -1;					\
		if (h) {						\
			stmt;						\
			*have |= (bit);					\
		}							\
	}								\
} while (0)

/*
 * Parse a data row: its time, site and the fields it sets.  @add lets the
 * first pass create sites.  Returns 0, 1 for a row to skip, -1 on error.
 */
static int parse_row(struct ofreplay *rp, char *line, int add, u64 *ms,
		     u32 *site, u64 *have, struct ofsim_sample *s)
{
	char *f[OFREPLAY_MAX_COLS + 1];
	int n, idx;

	if (!line[0])
		return 1;
	n = split_csv(line, f, OFREPLAY_MAX_COLS + 1);
	if (n < 0)
		return fail(rp, "malformed CSV (quote or more than %d columns)",
			    OFREPLAY_MAX_COLS);
	for (idx = 0; idx < C_COUNT; idx++)
		if (rp->col[idx] >= n)
			return fail(rp, "%d columns, the header has more", n);
	if (parse_time(f[rp->col[C_TS]], ms))
		return fail(rp, "bad timestamp \"%.40s\"", f[rp->col[C_TS]]);
	*have = 0;
	switch (rp->format) {
	case OFREPLAY_OPTICAL:
		idx = find_site(rp, f[rp->col[C_ID]], add);
		break;
	case OFREPLAY_REPORT:
		idx = find_site(rp, f[rp->col[C_SITE]], add);
		break;
	default:
		idx = 0;
	}
	if (idx < 0)
		return -1;
	*site = (u32)idx;
	switch (rp->format) {
	case OFREPLAY_OPTICAL:
		CELL(C_BER, "BER", OPTIFIBER_ABSENT_PRE_FEC_BER,
		     s->pre_fec_ber_e18 = ber_e18(v));
		CELL(C_OSNR, "OSNR", OPTIFIBER_ABSENT_OSNR,
		     s->osnr_cdb = to_cent(v));
		CELL(C_INP, "InputPower", OPTIFIBER_ABSENT_RX_POWER,
		     s->rx_power_cdbm = to_cent(v));
		CELL(C_OUTP, "OutputPower", OPTIFIBER_ABSENT_TX_POWER,
		     s->tx_power_cdbm = to_cent(v));
		break;
	case OFREPLAY_TRAFFIC:
		CELL(C_VALUE, "value", OPTIFIBER_ABSENT_THROUGHPUT,
		     s->throughput_bps = to_u64(v * rp->value_scale));
		break;
	case OFREPLAY_REPORT:
		CELL(C_THR, report_cols[C_THR], OPTIFIBER_ABSENT_THROUGHPUT,
		     s->throughput_bps = to_u64(v * 8));
		CELL(C_OFF, report_cols[C_OFF], OPTIFIBER_ABSENT_OFFERED,
		     s->offered_bps = to_u64(v * 8));
		CELL(C_CAP, report_cols[C_CAP], OPTIFIBER_ABSENT_CAPACITY,
		     s->capacity_bps = to_u64(v * 8));
		CELL(C_MODS, report_cols[C_MODS], OPTIFIBER_ABSENT_CMD_MODULES,
		     s->cmd_modules = (u32)to_u64(v));
		CELL(C_MODSMAX, report_cols[C_MODSMAX], 0,
		     s->cmd_modules_max = (u32)to_u64(v));
		/* the window's share of samples with the link up: majority */
		CELL(C_LINK, report_cols[C_LINK], OPTIFIBER_ABSENT_LINK_STATE,
		     s->link_state = v >= 0.5 ? OPTIFIBER_LINK_UP :
						OPTIFIBER_LINK_DOWN);
		CELL(C_OSNRAVG, report_cols[C_OSNRAVG], OPTIFIBER_ABSENT_OSNR,
		     s->osnr_cdb = to_cent(v));
		CELL(C_BERMAX, report_cols[C_BERMAX],
		     OPTIFIBER_ABSENT_PRE_FEC_BER,
		     s->pre_fec_ber_e18 = ber_e18(v));
		break;
	}
	return 0;
}

/* Map header names to columns; the format is the first whose columns fit. */
static int parse_header(struct ofreplay *rp, char *line)
{
	char *f[OFREPLAY_MAX_COLS + 1];
	const char *const *want;
	int n, i, j;

	for (i = 0; i < C_COUNT; i++)
		rp->col[i] = -1;
	n = split_csv(line, f, OFREPLAY_MAX_COLS + 1);
	if (n < 2)
		return fail(rp, "header: not a CSV header");
	if (!strcmp(f[0], "Timestamp") && n >= 3 && !strcmp(f[1], "Type")) {
		rp->format = OFREPLAY_OPTICAL;
		want = optical_cols;
	} else if (!strcmp(f[0], "timestamp") && !strcmp(f[1], "site")) {
		rp->format = OFREPLAY_REPORT;
		want = report_cols;
	} else if (n == 2 || (n == 3 && !f[2][0])) {
		/* timestamp,value (a trailing empty column is tolerated) */
		rp->format = OFREPLAY_TRAFFIC;
		rp->col[C_TS] = 0;
		rp->col[C_VALUE] = 1;
		return 0;
	} else {
		return fail(rp, "header: unknown format (expected %s)",
			    "Timestamp,Type,ID,BER,OSNR,InputPower,OutputPower,... | timestamp,value | timestamp,site,instance,... (optifiber report csv)");
	}
	for (i = 0; i < C_COUNT; i++) {
		if (!want[i])
			continue;
		for (j = 0; j < n; j++)
			if (!strcmp(f[j], want[i]))
				rp->col[i] = j;
	}
	if (rp->col[C_TS] < 0 ||
	    (rp->format == OFREPLAY_OPTICAL && rp->col[C_ID] < 0))
		return fail(rp, "header: %s format without its key columns",
			    ofreplay_format_name(rp->format));
	return 0;
}

int ofreplay_open(struct ofreplay *rp, const char *path, const char *site,
		  double value_scale)
{
	static char buf[MAX_LINE];
	struct ofsim_sample scratch;
	u64 ms, have, prev = 0;
	u32 idx;
	int r;

	memset(rp, 0, sizeof(*rp));
	rp->value_scale = value_scale;
	rp->f = fopen(path, "r");
	if (!rp->f) {
		snprintf(rp->err, sizeof(rp->err), "%s: %s", path,
			 strerror(errno));
		return -1;
	}
	r = read_line(rp, buf);
	if (r <= 0)
		return r ? -1 : fail(rp, "empty file");
	if (parse_header(rp, buf))
		return -1;
	rp->data_start = ftell(rp->f);
	if (rp->format == OFREPLAY_TRAFFIC &&
	    find_site(rp, site ? site : "traffic", 1) < 0)
		return -1;
	while ((r = read_line(rp, buf)) > 0) {
		memset(&scratch, 0, sizeof(scratch));
		r = parse_row(rp, buf, 1, &ms, &idx, &have, &scratch);
		if (r < 0)
			return -1;
		if (r)
			continue;
		/*
		 * Rows are applied in file order.  A poller that interleaves
		 * devices writes rows a few seconds out of order (the optical
		 * testbed: up to 4 s); such a row is applied with the row
		 * before it.  Larger steps back are an error.
		 */
		if (rp->rows && ms + OFREPLAY_REORDER_MS < prev)
			return fail(rp, "time goes back %llu ms (rows must be in time order, within %d s)",
				    (unsigned long long)(prev - ms),
				    OFREPLAY_REORDER_MS / 1000);
		if (!rp->rows)
			rp->first_ms = ms;
		if (ms > prev)
			prev = rp->last_ms = ms;
		rp->rows++;
	}
	if (r < 0)
		return -1;
	if (!rp->rows)
		return fail(rp, "no data rows");
	rp->st = calloc(rp->nsites, sizeof(*rp->st));
	if (!rp->st)
		return fail(rp, "out of memory");
	return ofreplay_rewind(rp);
}

int ofreplay_rewind(struct ofreplay *rp)
{
	u32 i;

	/* --loop: the recording's time starts again, and so does each site's */
	for (i = 0; i < rp->nsites; i++)
		rp->st[i].v.sim_time_s = 0;
	rp->pending = 0;
	rp->line = 1;
	if (fseek(rp->f, rp->data_start, SEEK_SET))
		return fail(rp, "rewind: %s", strerror(errno));
	return 0;
}

/* One sample of site @i: its latest values, the next of its sample_seq. */
static void publish_site(struct ofreplay *rp, struct ofsim *sim, u32 i,
			 u64 now_ns)
{
	struct ofreplay_site *s = &rp->st[i];

	s->v.sample_seq = ++s->published;
	s->v.update_time_ns = now_ns;
	s->v.absent = OPTIFIBER_ABSENT_ALL & ~s->have;
	ofsim_page_publish((struct optifiber_site *)
			   (sim->pages + (size_t)(1 + i) * OPTIFIBER_PAGE_SIZE),
			   &s->v);
	s->fresh = 0;
}

/*
 * Apply every row with a timestamp <= @until_ms.  A row that finds its site
 * holding a row of another second not yet published publishes that one
 * first, so each recorded measurement is a sample of its own even when a
 * fast replay applies several per tick (the page's recent ring then holds
 * them all).  1 at the end, -1 on error.
 */
static int advance(struct ofreplay *rp, struct ofsim *sim, u64 until_ms,
		   u64 now_ns)
{
	static char buf[MAX_LINE];
	struct ofreplay_site *s;
	int r;

	for (;;) {
		if (!rp->pending) {
			r = read_line(rp, buf);
			if (r <= 0)
				return r < 0 ? -1 : 1;
			s = NULL;
			memset(&rp->p_v, 0, sizeof(rp->p_v));
			r = parse_row(rp, buf, 0, &rp->p_ms, &rp->p_site,
				      &rp->p_have, &rp->p_v);
			if (r < 0)
				return -1;
			if (r)
				continue;
			rp->pending = 1;
		}
		if (rp->p_ms > until_ms)
			return 0;
		/* copy only the fields the row set; the others keep their value */
		s = &rp->st[rp->p_site];
		if (s->fresh && rp->p_ms / 1000 > s->v.sim_time_s)
			publish_site(rp, sim, rp->p_site, now_ns);
		/* rows of one second not yet published are one sample */
		s->have = s->fresh ? s->have | rp->p_have : rp->p_have;
		s->seen = 1;
		s->fresh = 1;
		/*
		 * The site's sample time is its measurement's, not the replay
		 * clock's: a tick that republishes a held row shows the same
		 * sim_time_s, so readers (the anomaly model) see one
		 * observation, not a new one per tick.  Kept non-decreasing.
		 */
		if (rp->p_ms / 1000 > s->v.sim_time_s)
			s->v.sim_time_s = rp->p_ms / 1000;
#define TAKE(bit, field) do {						\
		if (rp->p_have & (bit))					\
			s->v.field = rp->p_v.field;			\
	} while (0)
		TAKE(OPTIFIBER_ABSENT_THROUGHPUT, throughput_bps);
		TAKE(OPTIFIBER_ABSENT_OFFERED, offered_bps);
		TAKE(OPTIFIBER_ABSENT_CAPACITY, capacity_bps);
		TAKE(OPTIFIBER_ABSENT_CMD_MODULES, cmd_modules);
		TAKE(OPTIFIBER_ABSENT_CMD_MODULES, cmd_modules_max);
		TAKE(OPTIFIBER_ABSENT_LINK_STATE, link_state);
		TAKE(OPTIFIBER_ABSENT_PRE_FEC_BER, pre_fec_ber_e18);
		TAKE(OPTIFIBER_ABSENT_OSNR, osnr_cdb);
		TAKE(OPTIFIBER_ABSENT_RX_POWER, rx_power_cdbm);
		TAKE(OPTIFIBER_ABSENT_TX_POWER, tx_power_cdbm);
#undef TAKE
		rp->pending = 0;
	}
}

int ofreplay_tick(struct ofreplay *rp, struct ofsim *sim, u64 until_ms,
		  u64 now_ns)
{
	struct optifiber_dir *dir = sim->dir;
	u32 i;
	int r;

	sim->tick++;
	/* the directory seqcount spans the whole tick, as in ofsim_tick() */
	ofsim_seq_write_begin(&dir->seq);
	r = advance(rp, sim, until_ms, now_ns);
	/* held rows too: a live replay keeps each site's sample current */
	for (i = 0; i < rp->nsites; i++)
		if (rp->st[i].seen)
			publish_site(rp, sim, i, now_ns);
	dir->flags = OPTIFIBER_DIR_F_LIVE | OPTIFIBER_DIR_F_REPLAY;
	dir->tick = sim->tick;
	dir->sim_time_s = (until_ms < rp->last_ms ? until_ms : rp->last_ms) / 1000;
	dir->update_time_ns = now_ns;
	ofsim_seq_write_end(&dir->seq);
	return r;
}

void ofreplay_close(struct ofreplay *rp)
{
	u32 i;

	if (rp->f)
		fclose(rp->f);
	for (i = 0; i < rp->nsites; i++)
		free(rp->names[i]);
	free(rp->names);
	free(rp->st);
	memset(rp, 0, sizeof(*rp));
}
