// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the OptiFiber simulation core: physics, traffic,
 * faults, determinism, the cmd_control grammar, tick cost, and a small
 * smoke test of build/optifiber-sim when it has been built.
 *
 * Prints "PASS name" or "FAIL name: why" per case and a final
 * "N passed, N failed" line; exits non-zero when anything failed.
 */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../sim/ofsim_priv.h"
#include "of_test.h"

extern char **environ;

/* ----------------------------------------------------------- harness */

struct tsim {
	struct ofsim	sim;
	void		*pages;
	void		*sites;
	char		**names;
	u32		n;
};

static const char *const default_names[] = {
	"MicrosoftDC", "Dallas", "Dobbins", "Stone",
};

/* 2026-11-16 00:00:00 UTC, a Monday */
#define T0	1763251200ULL

static int tsim_new(struct tsim *t, u32 n, u64 seed, u32 scale, u32 rate,
		    u64 start)
{
	struct ofsim_params p = {
		.seed = seed, .sim_start_s = start, .tick_ms = 1000,
		.time_scale = scale, .fault_rate = rate, .nsites = n,
	};
	const char *err;
	u32 i;

	memset(t, 0, sizeof(*t));
	t->n = n;
	t->pages = calloc(1 + n, OPTIFIBER_PAGE_SIZE);
	t->sites = calloc(1, ofsim_sites_size(n));
	t->names = calloc(n, sizeof(char *));
	for (i = 0; i < n; i++) {
		t->names[i] = malloc(16);
		if (n == 4)
			snprintf(t->names[i], 16, "%s", default_names[i]);
		else
			snprintf(t->names[i], 16, "site-%05u", i + 1);
	}
	return ofsim_init(&t->sim, &p, (const char *const *)t->names,
			  t->sites, t->pages, "test", 42, &err);
}

static void tsim_free(struct tsim *t)
{
	u32 i;

	for (i = 0; i < t->n; i++)
		free(t->names[i]);
	free(t->names);
	free(t->pages);
	free(t->sites);
}

static struct optifiber_site *pg(struct tsim *t, u32 i)
{
	return (struct optifiber_site *)((u8 *)t->pages +
					 (size_t)(1 + i) * OPTIFIBER_PAGE_SIZE);
}

static size_t tsim_bytes(struct tsim *t)
{
	return (size_t)(1 + t->n) * OPTIFIBER_PAGE_SIZE;
}

/* Tick with a deterministic fake clock. */
static void tick(struct tsim *t)
{
	ofsim_tick(&t->sim, 1000000000ULL * (t->sim.tick + 1));
}

/* Parse and apply one write; returns parse/apply result. */
static int ctl(struct tsim *t, const char *line)
{
	struct ofsim_cmd cmds[16];
	const char *err;
	int n, el;

	n = ofsim_cmd_parse(&t->sim, line, strlen(line), cmds, 16, &err,
			    &el);
	if (n < 0)
		return n;
	return ofsim_cmd_apply(&t->sim, cmds, n, &err);
}

static double ber(u64 e18)
{
	return (double)e18 / 1e18;
}

/* ------------------------------------------------------------- tests */

static int t_ber_table(void)
{
	u64 prev = 0, b;
	s32 o;

	/* OSNR from 32 dB down to 0: BER strictly rises while non-zero */
	for (o = 3200; o >= 0; o--) {
		b = ofsim_osnr_to_ber_e18(o);
		if (o < 3200)
			CHECK(b > prev || (b == 0 && prev == 0),
			      "BER not rising at OSNR %d cdB: %llu -> %llu", o,
			      (unsigned long long)prev, (unsigned long long)b);
		prev = b;
	}
	CHECK(ofsim_osnr_to_ber_e18(2900) > 0, "BER vanishes at 29 dB");
	/* the ARNO testbed calibration points */
	b = ofsim_osnr_to_ber_e18(2540);
	CHECK(ber(b) > 1.5e-7 && ber(b) < 2.5e-7,
	      "OSNR 25.4 dB gives BER %.3g, want ~2e-7", ber(b));
	b = ofsim_osnr_to_ber_e18(1830);
	CHECK(ber(b) > 1.2e-4 && ber(b) < 1.8e-4,
	      "OSNR 18.3 dB gives BER %.3g, want ~1.5e-4", ber(b));
	/* against libm across the table (interpolation error) */
	for (o = 0; o <= 3000; o += 7) {
		double q = pow(10, (0.41 * o / 100 + 3.7) / 20);
		double ref = 0.5 * erfc(q / sqrt(2));
		double got = ber(ofsim_osnr_to_ber_e18(o));

		if (ref < 1e-15)
			break;
		CHECK(fabs(got - ref) / ref < 0.05,
		      "OSNR %d cdB: BER %.4g vs erfc %.4g", o, got, ref);
	}
	/* post-FEC: ~0 a decade below the limit, steep above */
	CHECK(ofsim_post_fec_ber_e18(10000000000000ULL) == 0,
	      "post-FEC non-zero at pre 1e-5");
	CHECK(ofsim_post_fec_ber_e18(1000000000000000ULL) >
	      1000 * ofsim_post_fec_ber_e18(200000000000000ULL),
	      "post-FEC not steep above the limit");
	return 1;
}

static int t_start_utilization(void)
{
	static const u64 starts[] = { T0, T0 + 6 * 3600, T0 + 12 * 3600,
				      T0 + 18 * 3600, T0 + 3 * 86400 + 7777 };
	unsigned k, i;

	for (k = 0; k < 5; k++) {
		for (u64 seed = 1; seed <= 4; seed++) {
			struct tsim t;

			CHECK(!tsim_new(&t, 4, seed, 1, 0, starts[k]), "init");
			tick(&t);
			for (i = 0; i < 4; i++) {
				double u = (double)pg(&t, i)->offered_bps /
					   (double)pg(&t, i)->capacity_bps;

				CHECK(u > 0.25 && u < 0.80,
				      "seed %llu site %u start %u: %.0f %%",
				      (unsigned long long)seed, i, k, u * 100);
				CHECK(pg(&t, i)->cmd_modules >= 2 &&
				      pg(&t, i)->cmd_modules <= 4 &&
				      pg(&t, i)->cmd_modules_max == 16,
				      "modules %u", pg(&t, i)->cmd_modules);
			}
			tsim_free(&t);
		}
	}
	return 1;
}

static int t_tick_publish(void)
{
	struct tsim t;
	struct optifiber_dir *d;
	u32 i;

	CHECK(!tsim_new(&t, 4, 7, 5, 0, T0), "init");
	d = t.pages;
	CHECK(!(pg(&t, 0)->flags & OPTIFIBER_SITE_F_VALID),
	      "valid before first sample");
	for (i = 0; i < 10; i++)
		tick(&t);
	CHECK(d->seq == 20 && d->tick == 10, "dir seq %u tick %llu", d->seq,
	      (unsigned long long)d->tick);
	CHECK(d->flags == (OPTIFIBER_DIR_F_LIVE | OPTIFIBER_DIR_F_SIMULATED),
	      "dir flags %#x", d->flags);
	CHECK(d->sim_time_s == T0 + 50, "sim_time %llu",
	      (unsigned long long)d->sim_time_s);
	CHECK(d->update_time_ns == 10000000000ULL, "update_time_ns");
	CHECK(d->magic == OPTIFIBER_MAGIC && d->site_count == 4 &&
	      d->time_scale == 5 && !strcmp(d->host, "test"), "dir header");
	for (i = 0; i < 4; i++) {
		struct optifiber_site *s = pg(&t, i);

		CHECK(s->seq == 20 && s->sample_seq == 10 &&
		      (s->flags & OPTIFIBER_SITE_F_VALID) &&
		      s->sim_time_s == T0 + 50 && s->site_index == i &&
		      s->magic == OPTIFIBER_SITE_MAGIC &&
		      !strcmp(s->name, default_names[i]),
		      "site %u header", i);
		CHECK(s->link_state == OPTIFIBER_LINK_UP, "site %u link %u", i,
		      s->link_state);
		CHECK(s->temperature_mc > 38000 && s->temperature_mc < 52000,
		      "temperature %d", s->temperature_mc);
		CHECK(s->laser_bias_ua > 100000 && s->laser_bias_ua < 140000,
		      "bias %u", s->laser_bias_ua);
		CHECK(s->tx_power_cdbm >= 100 && s->tx_power_cdbm <= 300,
		      "tx %d", s->tx_power_cdbm);
		CHECK(s->chromatic_dispersion_ps_nm >= 330 &&
		      s->chromatic_dispersion_ps_nm <= 1370, "cd %d",
		      s->chromatic_dispersion_ps_nm);
		CHECK(s->osnr_cdb > 2300 && s->osnr_cdb < 2800, "osnr %d",
		      s->osnr_cdb);
		CHECK(s->pre_fec_ber_e18 > 0 && ber(s->pre_fec_ber_e18) < 1e-5,
		      "pre-FEC %.3g", ber(s->pre_fec_ber_e18));
		CHECK(s->throughput_bps == s->offered_bps, "not congested");
	}
	tsim_free(&t);
	return 1;
}

/*
 * The recent ring (ABI minor 2): after 40 ticks each site's ring holds its
 * last OPTIFIBER_RECENT samples, each byte for byte the sample_seq..absent
 * bytes the page held when it was written, and the oldest are overwritten.
 */
static int t_recent_ring(void)
{
	static u8 seen[40][4][OPTIFIBER_SAMPLE_LEN];
	struct tsim t;
	u32 i, k;

	CHECK(!tsim_new(&t, 4, 11, 60, 0, T0), "init");
	CHECK(!ctl(&t, "site=Dallas fault=crc_burst duration=1800\n"), "fault");
	for (k = 0; k < 40; k++) {
		tick(&t);
		for (i = 0; i < 4; i++)
			memcpy(seen[k][i], &pg(&t, i)->sample_seq,
			       OPTIFIBER_SAMPLE_LEN);
	}
	for (i = 0; i < 4; i++) {
		struct optifiber_site *s = pg(&t, i);

		CHECK(s->abi_minor == OPTIFIBER_ABI_MINOR && s->sample_seq == 40,
		      "site %u minor %u head %llu", i, s->abi_minor,
		      (unsigned long long)s->sample_seq);
		for (k = 40 - OPTIFIBER_RECENT; k < 40; k++) {
			const u8 *e = s->recent[(k + 1) % OPTIFIBER_RECENT];
			u64 seq;

			memcpy(&seq, e, sizeof(seq));
			CHECK(seq == k + 1, "site %u slot of %u holds %llu", i,
			      k + 1, (unsigned long long)seq);
			CHECK(!memcmp(e, seen[k][i], OPTIFIBER_SAMPLE_LEN),
			      "site %u sample %u differs from the page then",
			      i, k + 1);
		}
	}
	/* the samples differ (time, counters), so the check above can fail */
	CHECK(memcmp(seen[38][1], seen[39][1], OPTIFIBER_SAMPLE_LEN),
	      "consecutive samples identical");
	tsim_free(&t);
	return 1;
}

/* A week at one minute per tick, every fault on every site, plus random. */
static int t_counters_week(void)
{
	struct tsim t;
	u64 prev[4][5] = { { 0 } };
	u32 i, k, los0[4], tk;
	char line[128];

	CHECK(!tsim_new(&t, 4, 3, 60, 3000, T0), "init");
	for (tk = 0; tk < 7 * 1440; tk++) {
		/* a commanded fault of each kind, per site, over the week */
		if (tk % 1000 == 500) {
			k = 1 + (tk / 1000) % 6;
			for (i = 0; i < 4; i++) {
				snprintf(line, sizeof(line),
					 "site=%s fault=%s duration=1800\n",
					 t.names[i], ofsim_fault_name(k));
				CHECK(!ctl(&t, line), "inject");
			}
		}
		tick(&t);
		for (i = 0; i < 4; i++) {
			struct optifiber_site *s = pg(&t, i);
			u64 c[5] = { s->bytes, s->crc_errors,
				     s->fec_corrected_bits,
				     s->fec_uncorrectable_blocks,
				     s->los_events };

			for (k = 0; k < 5; k++) {
				CHECK(c[k] >= prev[i][k],
				      "site %u counter %u went back at tick %u",
				      i, k, tk);
				prev[i][k] = c[k];
			}
			CHECK(s->capacity_bps == s->cmd_modules *
			      s->module_capacity_bps, "capacity");
			CHECK(s->throughput_bps <= s->capacity_bps &&
			      s->throughput_bps <= s->offered_bps, "throughput");
		}
	}
	for (i = 0; i < 4; i++) {
		struct optifiber_site *s = pg(&t, i);

		los0[i] = (u32)s->los_events;
		CHECK(s->los_events >= 1 && s->crc_errors > 1000000 &&
		      s->fec_uncorrectable_blocks > 0 && s->bytes > 1000000 &&
		      s->faults_total >= 10,
		      "site %u: los %llu crc %llu unc %llu faults %llu", i,
		      (unsigned long long)s->los_events,
		      (unsigned long long)s->crc_errors,
		      (unsigned long long)s->fec_uncorrectable_blocks,
		      (unsigned long long)s->faults_total);
	}
	(void)los0;
	tsim_free(&t);
	return 1;
}

static int t_growth(void)
{
	struct tsim t;
	double w[5][4] = { { 0 } };
	u32 i, tk, per_week = 7 * 86400 / 600, peak = 0;

	CHECK(!tsim_new(&t, 4, 11, 600, 0, T0), "init");
	for (tk = 0; tk < 4 * per_week; tk++) {
		tick(&t);
		for (i = 0; i < 4; i++)
			w[tk / per_week][i] += (double)pg(&t, i)->offered_bps;
	}
	for (i = 0; i < 4; i++) {
		double g = w[3][i] / w[0][i];

		/* 0.5-3 %/day compounded over three weeks: 1.11x-1.86x */
		CHECK(g > 1.08 && g < 2.0, "site %u week4/week1 = %.3f", i, g);
	}
	/*
	 * Capacity runs short eventually: by week 20 (0.5 %/day: 2x) the
	 * daily peak is above 90 % of the initial capacity on every site.
	 */
	for (tk = 0; tk < 16 * per_week; tk++) {
		tick(&t);
		if (tk < 16 * per_week - 144)
			continue;
		for (i = 0; i < 4; i++)
			if (pg(&t, i)->offered_bps >
			    pg(&t, i)->capacity_bps / 10 * 9)
				peak |= 1U << i;
	}
	CHECK(peak == 0xf, "not every site short of capacity by week 20: %#x",
	      peak);
	tsim_free(&t);
	return 1;
}

static int t_seasonality(void)
{
	struct tsim t;
	double day[4] = { 0 }, night[4] = { 0 }, tday = 0, tnight = 0;
	u32 i, tk;

	CHECK(!tsim_new(&t, 4, 5, 300, 0, T0), "init");
	for (tk = 0; tk < 14 * 288; tk++) {
		u64 h;

		tick(&t);
		h = (pg(&t, 0)->sim_time_s % 86400) / 3600;
		for (i = 0; i < 4; i++) {
			struct optifiber_site *s = pg(&t, i);

			if (h >= 14 && h < 20)
				day[i] += (double)s->offered_bps;
			if (h >= 2 && h < 8)
				night[i] += (double)s->offered_bps;
			if (h >= 14 && h < 20)
				tday += s->temperature_mc;
			if (h >= 2 && h < 8)
				tnight += s->temperature_mc;
		}
	}
	for (i = 0; i < 4; i++)
		CHECK(day[i] > 1.1 * night[i], "site %u day/night %.3f", i,
		      day[i] / night[i]);
	CHECK(tday > tnight, "temperature has no diurnal cycle");
	tsim_free(&t);
	return 1;
}

/*
 * The AR(1) noise is zero-mean and stationary: mean OSNR and rx power of
 * the first hour and of the last four hours of a day (one tick per
 * second) agree, and OSNR does move (it is noise, not a constant).
 */
static int t_noise_stationary(void)
{
	struct tsim t;
	double o1[4] = { 0 }, o2[4] = { 0 }, r1[4] = { 0 }, r2[4] = { 0 };
	s32 lo[4], hi[4];
	u32 i, tk;

	CHECK(!tsim_new(&t, 4, 13, 1, 0, T0), "init");
	for (i = 0; i < 4; i++) {
		lo[i] = 1 << 30;
		hi[i] = -(1 << 30);
	}
	for (tk = 0; tk < 86400; tk++) {
		tick(&t);
		for (i = 0; i < 4; i++) {
			struct optifiber_site *s = pg(&t, i);

			if (tk < 3600) {
				o1[i] += s->osnr_cdb;
				r1[i] += s->rx_power_cdbm;
			} else if (tk >= 72000) {
				o2[i] += s->osnr_cdb;
				r2[i] += s->rx_power_cdbm;
			}
			if (s->osnr_cdb < lo[i])
				lo[i] = s->osnr_cdb;
			if (s->osnr_cdb > hi[i])
				hi[i] = s->osnr_cdb;
		}
	}
	for (i = 0; i < 4; i++) {
		double d_o = o1[i] / 3600 - o2[i] / 14400;
		double d_r = r1[i] / 3600 - r2[i] / 14400;

		CHECK(d_o > -25 && d_o < 25 && d_r > -25 && d_r < 25,
		      "site %u drifts: OSNR %.1f cdB, rx %.1f cdB", i, d_o,
		      d_r);
		CHECK(hi[i] - lo[i] >= 10 && hi[i] - lo[i] < 150,
		      "site %u OSNR range %d cdB", i, hi[i] - lo[i]);
	}
	tsim_free(&t);
	return 1;
}

/* ---------------------------------------------------- fault twins */

struct fault_case {
	u32 kind;
	const char *name;
};

#define FT_SCALE	10
#define FT_PRE		30	/* ticks before the injection */
#define FT_DUR		1200	/* simulated seconds: 120 ticks */

static int check_fault(u32 kind)
{
	struct tsim a, b;
	struct optifiber_site *x, *y;
	char line[128];
	u64 crc0 = 0, fec0a = 0, fec0b = 0, early_ber = 0;
	u32 tk, i, fault_ticks = FT_DUR / FT_SCALE;
	int saw = 0;

	CHECK(!tsim_new(&a, 4, 99, FT_SCALE, 0, T0) &&
	      !tsim_new(&b, 4, 99, FT_SCALE, 0, T0), "init");
	for (tk = 0; tk < FT_PRE; tk++) {
		tick(&a);
		tick(&b);
	}
	snprintf(line, sizeof(line), "site=Dallas fault=%s duration=%u\n",
		 ofsim_fault_name(kind), FT_DUR);
	CHECK(!ctl(&b, line), "inject %s", line);
	x = pg(&a, 1);
	y = pg(&b, 1);
	for (tk = 0; tk < fault_ticks; tk++) {
		tick(&a);
		tick(&b);
		CHECK(y->fault == kind, "fault %u not in effect at tick %u",
		      y->fault, tk);
		CHECK(y->fault_start_sim_s == T0 + (FT_PRE + 1) * FT_SCALE &&
		      y->fault_end_sim_s == y->fault_start_sim_s + FT_DUR &&
		      y->faults_total == 1, "fault ground truth");
		if (tk == 0) {
			crc0 = y->crc_errors - x->crc_errors;
			fec0a = x->fec_corrected_bits;
			fec0b = y->fec_corrected_bits;
		}
		if (tk == 12)
			early_ber = y->pre_fec_ber_e18;
		/* the other sites are untouched */
		for (i = 0; i < 4; i++)
			if (i != 1)
				CHECK(!memcmp(pg(&a, i), pg(&b, i),
					      OPTIFIBER_PAGE_SIZE),
				      "site %u disturbed", i);
		if (tk < 10)
			continue;	/* past the ramp */
		saw++;
		switch (kind) {
		case OPTIFIBER_FAULT_FIBER_CUT:
			CHECK(y->link_state == OPTIFIBER_LINK_DOWN &&
			      !y->throughput_bps && y->rx_power_cdbm <= -3000 &&
			      y->pre_fec_ber_e18 == 500000000000000000ULL &&
			      y->osnr_cdb == 0 && y->q_factor_cdb == 0,
			      "fiber_cut: link %u thr %llu rx %d",
			      y->link_state,
			      (unsigned long long)y->throughput_bps,
			      y->rx_power_cdbm);
			CHECK(y->los_events == x->los_events + 1,
			      "los_events %llu vs %llu",
			      (unsigned long long)y->los_events,
			      (unsigned long long)x->los_events);
			CHECK(y->bytes < x->bytes, "bytes still counting");
			break;
		case OPTIFIBER_FAULT_OSNR_DEGRADE:
			CHECK(y->osnr_cdb <= x->osnr_cdb - 600 &&
			      y->osnr_cdb >= x->osnr_cdb - 800,
			      "osnr %d vs %d", y->osnr_cdb, x->osnr_cdb);
			CHECK(y->pre_fec_ber_e18 > 20 * x->pre_fec_ber_e18,
			      "BER %.3g vs %.3g", ber(y->pre_fec_ber_e18),
			      ber(x->pre_fec_ber_e18));
			break;
		case OPTIFIBER_FAULT_BER_CREEP:
			CHECK(y->osnr_cdb < x->osnr_cdb &&
			      y->pre_fec_ber_e18 > x->pre_fec_ber_e18,
			      "ber_creep: osnr %d vs %d", y->osnr_cdb,
			      x->osnr_cdb);
			break;
		case OPTIFIBER_FAULT_AMP_FAILURE:
			CHECK(y->rx_power_cdbm <= x->rx_power_cdbm - 800 &&
			      y->rx_power_cdbm >= x->rx_power_cdbm - 1200 &&
			      y->osnr_cdb < x->osnr_cdb - 500 &&
			      y->link_state != OPTIFIBER_LINK_DOWN,
			      "amp: rx %d vs %d osnr %d vs %d",
			      y->rx_power_cdbm, x->rx_power_cdbm, y->osnr_cdb,
			      x->osnr_cdb);
			break;
		case OPTIFIBER_FAULT_CRC_BURST:
			CHECK(y->osnr_cdb == x->osnr_cdb &&
			      y->pre_fec_ber_e18 == x->pre_fec_ber_e18 &&
			      y->rx_power_cdbm == x->rx_power_cdbm,
			      "crc_burst touched the optics");
			CHECK(y->crc_errors - x->crc_errors >=
			      crc0 + 1000ULL * FT_SCALE * tk,
			      "crc_burst: %llu extra CRC errors",
			      (unsigned long long)(y->crc_errors -
						   x->crc_errors));
			break;
		case OPTIFIBER_FAULT_TRAFFIC_SURGE:
			CHECK(y->offered_bps >= x->offered_bps / 1000 * 1499 &&
			      y->offered_bps <= x->offered_bps / 1000 * 2201,
			      "surge: %llu vs %llu",
			      (unsigned long long)y->offered_bps,
			      (unsigned long long)x->offered_bps);
			CHECK(y->osnr_cdb == x->osnr_cdb, "surge touched optics");
			break;
		}
	}
	CHECK(saw > 50, "fault too short");
	if (kind == OPTIFIBER_FAULT_BER_CREEP)
		CHECK(y->pre_fec_ber_e18 > 100 * early_ber &&
		      ber(y->pre_fec_ber_e18) > 3e-5,
		      "ber_creep did not creep: %.3g -> %.3g", ber(early_ber),
		      ber(y->pre_fec_ber_e18));
	if (kind != OPTIFIBER_FAULT_FIBER_CUT &&
	    kind != OPTIFIBER_FAULT_CRC_BURST &&
	    kind != OPTIFIBER_FAULT_TRAFFIC_SURGE)
		CHECK(y->fec_corrected_bits - fec0b >
		      2 * (x->fec_corrected_bits - fec0a),
		      "FEC corrections did not rise");
	/* after the fault: the same metrics as the twin */
	for (tk = 0; tk < 20; tk++) {
		tick(&a);
		tick(&b);
	}
	CHECK(y->fault == 0 && y->fault_start_sim_s == 0 &&
	      y->fault_end_sim_s == 0 && y->faults_total == 1,
	      "fault did not end: %u", y->fault);
	CHECK(y->offered_bps == x->offered_bps &&
	      y->throughput_bps == x->throughput_bps &&
	      y->osnr_cdb == x->osnr_cdb && y->rx_power_cdbm == x->rx_power_cdbm &&
	      y->pre_fec_ber_e18 == x->pre_fec_ber_e18 &&
	      y->link_state == x->link_state &&
	      y->temperature_mc == x->temperature_mc,
	      "metrics differ from the twin after the fault");
	CHECK(y->link_state == OPTIFIBER_LINK_UP, "link not back up");
	tsim_free(&a);
	tsim_free(&b);
	return 1;
}

static int t_fault_fiber_cut(void) { return check_fault(1); }
static int t_fault_osnr_degrade(void) { return check_fault(2); }
static int t_fault_ber_creep(void) { return check_fault(3); }
static int t_fault_amp_failure(void) { return check_fault(4); }
static int t_fault_crc_burst(void) { return check_fault(5); }
static int t_fault_traffic_surge(void) { return check_fault(6); }

static int t_fault_clear(void)
{
	struct tsim t;

	CHECK(!tsim_new(&t, 4, 1, 1, 0, T0), "init");
	tick(&t);
	CHECK(!ctl(&t, "site=Stone fault=fiber_cut\n"), "inject");
	tick(&t);
	CHECK(pg(&t, 3)->fault == OPTIFIBER_FAULT_FIBER_CUT &&
	      pg(&t, 3)->fault_end_sim_s - pg(&t, 3)->fault_start_sim_s == 300,
	      "default duration is not 300 s");
	CHECK(!ctl(&t, "site=Stone fault=clear\n"), "clear");
	CHECK(pg(&t, 3)->fault == OPTIFIBER_FAULT_FIBER_CUT,
	      "cleared before the next tick");
	tick(&t);
	CHECK(pg(&t, 3)->fault == 0 &&
	      pg(&t, 3)->link_state == OPTIFIBER_LINK_UP, "not cleared");
	tsim_free(&t);
	return 1;
}

/* ------------------------------------------------- determinism */

static int run_hash(u64 seed, u32 ticks, u8 **out, size_t *len)
{
	struct tsim t;
	u32 i;

	if (tsim_new(&t, 16, seed, 30, 20000, T0))
		return -1;
	for (i = 0; i < ticks; i++) {
		if (i == 100 && ctl(&t, "site=site-00003 cmd_add=2\n"))
			return -1;
		if (i == 200 && ctl(&t, "site=site-00007 fault=amp_failure\n"))
			return -1;
		tick(&t);
	}
	*len = tsim_bytes(&t);
	*out = malloc(*len);
	memcpy(*out, t.pages, *len);
	tsim_free(&t);
	return 0;
}

static int t_determinism(void)
{
	u8 *a, *b, *c;
	size_t la, lb, lc;

	CHECK(!run_hash(77, 2000, &a, &la) && !run_hash(77, 2000, &b, &lb) &&
	      !run_hash(78, 2000, &c, &lc), "runs");
	CHECK(la == lb && !memcmp(a, b, la), "same seed, different bytes");
	CHECK(la == lc && memcmp(a + OPTIFIBER_PAGE_SIZE,
				 c + OPTIFIBER_PAGE_SIZE,
				 la - OPTIFIBER_PAGE_SIZE),
	      "different seeds, same site pages");
	CHECK(((struct optifiber_site *)(a + OPTIFIBER_PAGE_SIZE))->offered_bps !=
	      ((struct optifiber_site *)(c + OPTIFIBER_PAGE_SIZE))->offered_bps,
	      "different seeds, same offered load");
	free(a);
	free(b);
	free(c);
	return 1;
}

/* ---------------------------------------------------- commands */

static int t_cmd_add(void)
{
	struct tsim t;
	u64 cap;
	u32 m;

	CHECK(!tsim_new(&t, 4, 1, 1, 0, T0), "init");
	tick(&t);
	cap = pg(&t, 1)->capacity_bps;
	m = pg(&t, 1)->cmd_modules;
	CHECK(cap == m * 400000000000ULL, "capacity %llu for %u modules",
	      (unsigned long long)cap, m);
	CHECK(!ctl(&t, "site=Dallas cmd_add=1\n"), "cmd_add");
	CHECK(pg(&t, 1)->capacity_bps == cap, "page changed before the tick");
	tick(&t);
	CHECK(pg(&t, 1)->capacity_bps == cap + 400000000000ULL &&
	      pg(&t, 1)->cmd_modules == m + 1, "capacity not raised");
	CHECK(!ctl(&t, "site=Dallas cmd_remove=1\n"), "cmd_remove");
	tick(&t);
	CHECK(pg(&t, 1)->capacity_bps == cap, "capacity not lowered");
	tsim_free(&t);
	return 1;
}

/*
 * External sites (the kernel's ifaces=): ofsim_tick() leaves their pages to
 * the host, every other site publishes exactly what it would without them,
 * the directory carries sim->dir_flags, and commands naming an external site
 * are refused as a whole with -EOPNOTSUPP.
 */
static int t_external_sites(void)
{
	static const u8 ext[4] = { 0, 1, 0, 0 };
	const u32 flags = OPTIFIBER_DIR_F_LIVE | OPTIFIBER_DIR_F_SIMULATED |
			  OPTIFIBER_DIR_F_INTERFACE;
	struct ofsim_sample smp = { .link_state = OPTIFIBER_LINK_UP,
				    .absent = OPTIFIBER_ABSENT_ALL & ~OPTIFIBER_ABSENT_LINK_STATE };
	struct tsim a, b;
	const char *err = NULL;
	struct ofsim_cmd c[2];
	u32 i, m0, m2;
	u64 t;
	int k;

	CHECK(!tsim_new(&a, 4, 7, 60, 20000, T0) && !tsim_new(&b, 4, 7, 60, 20000, T0), "init");
	b.sim.external = ext;
	b.sim.dir_flags = flags;
	for (k = 0; k < 50; k++) {
		tick(&a);
		t = ofsim_tick_begin(&b.sim, 1000000000ULL * (b.sim.tick + 1));
		smp.sample_seq = b.sim.tick;
		smp.sim_time_s = t;
		ofsim_page_publish(ofsim_site_page(&b.sim, 1), &smp);
		ofsim_tick_end(&b.sim, 1000000000ULL * b.sim.tick);
	}
	for (i = 0; i < 4; i++) {
		if (i == 1)
			continue;
		CHECK(!memcmp(pg(&a, i), pg(&b, i), OPTIFIBER_PAGE_SIZE),
		      "simulated site %u differs once site 1 is external", i);
	}
	CHECK(pg(&b, 1)->absent == smp.absent && pg(&b, 1)->sample_seq == 50 &&
	      pg(&b, 1)->sim_time_s == T0 + 50 * 60 && !pg(&b, 1)->osnr_cdb,
	      "external page: absent 0x%llx seq %llu", (unsigned long long)pg(&b, 1)->absent,
	      (unsigned long long)pg(&b, 1)->sample_seq);
	CHECK(b.sim.dir->flags == flags && b.sim.dir->tick == 50 &&
	      b.sim.dir->sim_time_s == a.sim.dir->sim_time_s && !(b.sim.dir->seq & 1),
	      "dir flags 0x%x tick %llu", b.sim.dir->flags, (unsigned long long)b.sim.dir->tick);
	m0 = pg(&b, 0)->cmd_modules;
	m2 = pg(&b, 2)->cmd_modules;
	const char *batch = "site=MicrosoftDC cmd_add=1\nsite=Dallas cmd_add=1\n";

	CHECK(ofsim_cmd_parse(&b.sim, batch, strlen(batch), c, 2, &err, &k) == 2, "parse");
	CHECK(ofsim_cmd_apply(&b.sim, c, 2, &err) == -EOPNOTSUPP && err &&
	      strstr(err, "network interface"), "cmd on an external site: not EOPNOTSUPP");
	CHECK(ctl(&b, "site=Dallas fault=fiber_cut\n") == -EOPNOTSUPP, "fault on an external site");
	CHECK(!ctl(&b, "site=Dobbins cmd_add=1\n"), "cmd_add on a simulated site");
	tick(&b);
	CHECK(pg(&b, 0)->cmd_modules == m0 && pg(&b, 2)->cmd_modules == m2 + 1,
	      "the refused batch was applied in part");
	tsim_free(&a);
	tsim_free(&b);
	return 1;
}

static int t_cmd_erange(void)
{
	struct tsim t;
	u8 *before;
	char line[128];
	u32 m0, m1;

	CHECK(!tsim_new(&t, 4, 1, 1, 0, T0), "init");
	tick(&t);
	m0 = pg(&t, 0)->cmd_modules;
	m1 = pg(&t, 1)->cmd_modules;
	before = malloc(tsim_bytes(&t));
	memcpy(before, t.pages, tsim_bytes(&t));
	snprintf(line, sizeof(line), "site=MicrosoftDC cmd_add=%u\n",
		 16 - m0 + 1);
	CHECK(ctl(&t, line) == -ERANGE, "no ERANGE above max");
	snprintf(line, sizeof(line), "site=MicrosoftDC cmd_remove=%u\n", m0);
	CHECK(ctl(&t, line) == -ERANGE, "no ERANGE at zero modules");
	/* a multi-line write: first line fine, last one out of range */
	snprintf(line, sizeof(line),
		 "site=Dallas cmd_add=1\nsite=MicrosoftDC fault=crc_burst\n"
		 "site=MicrosoftDC cmd_add=%u\n", 16 - m0 + 1);
	CHECK(ctl(&t, line) == -ERANGE, "no ERANGE in a batch");
	/* cumulative: two adds that only together exceed the max */
	snprintf(line, sizeof(line),
		 "site=Dallas cmd_add=%u\nsite=Dallas cmd_add=1\n", 16 - m1);
	CHECK(ctl(&t, line) == -ERANGE, "no ERANGE cumulatively");
	CHECK(!memcmp(before, t.pages, tsim_bytes(&t)), "pages changed");
	tick(&t);
	CHECK(pg(&t, 0)->cmd_modules == m0 && pg(&t, 1)->cmd_modules == m1 &&
	      pg(&t, 0)->fault == 0, "something was applied");
	/* up to exactly the max is fine */
	snprintf(line, sizeof(line), "site=MicrosoftDC cmd_add=%u\n", 16 - m0);
	CHECK(!ctl(&t, line), "add to max refused");
	tick(&t);
	CHECK(pg(&t, 0)->cmd_modules == 16 &&
	      pg(&t, 0)->capacity_bps == 16 * 400000000000ULL, "max");
	free(before);
	tsim_free(&t);
	return 1;
}

static const struct {
	const char *line;
	size_t len;		/* 0: strlen */
	int err_line;
} bad_cmds[] = {
	{ "", 0, 1 },					/* empty write */
	{ "\n", 0, 1 },					/* empty line */
	{ "site=Dallas cmd_add=1", 0, 1 },		/* no newline */
	{ "site=Dallas cmd_add=1\nsite=Dallas", 0, 2 },	/* partial line */
	{ "site=Dallas cmd_add=1\n\n", 0, 2 },		/* empty 2nd line */
	{ "site=Nowhere cmd_add=1\n", 0, 1 },
	{ "cmd_add=1\n", 0, 1 },			/* missing site */
	{ "site=Dallas\n", 0, 1 },			/* no action */
	{ "site=Dallas cmd_add=1 cmd_remove=1\n", 0, 1 },
	{ "site=Dallas cmd_add=1 fault=crc_burst\n", 0, 1 },
	{ "site=Dallas site=Dallas cmd_add=1\n", 0, 1 },	/* repeated */
	{ "site=Dallas cmd_add=1 cmd_add=1\n", 0, 1 },
	{ "site=Dallas cmd_add=1 color=red\n", 0, 1 },	/* unknown key */
	{ "site=Dallas cmd_add=0\n", 0, 1 },
	{ "site=Dallas cmd_add=65\n", 0, 1 },
	{ "site=Dallas cmd_add=01\n", 0, 1 },		/* leading zero */
	{ "site=Dallas cmd_add=+1\n", 0, 1 },
	{ "site=Dallas cmd_add=-1\n", 0, 1 },
	{ "site=Dallas cmd_add=1x\n", 0, 1 },
	{ "site=Dallas cmd_add=99999999999999999999999\n", 0, 1 },
	{ "site=Dallas cmd_add=18446744073709551617\n", 0, 1 },
	{ "site=Dallas cmd_add=\n", 0, 1 },		/* empty value */
	{ "site=Dallas cmd_add\n", 0, 1 },		/* no = */
	{ "site=Dallas =1\n", 0, 1 },			/* empty key */
	{ "site=Dallas cmd_add=1 duration=60\n", 0, 1 },	/* no fault */
	{ "site=Dallas fault=clear duration=60\n", 0, 1 },
	{ "site=Dallas fault=meteor\n", 0, 1 },
	{ "site=Dallas fault=fiber_cut duration=0\n", 0, 1 },
	{ "site=Dallas fault=fiber_cut duration=604801\n", 0, 1 },
	{ "site=Dallas fault=fiber_cut duration=1.5\n", 0, 1 },
	{ "site=Dallas  cmd_add=1\n", 0, 1 },		/* double space */
	{ " site=Dallas cmd_add=1\n", 0, 1 },		/* leading space */
	{ "site=Dallas cmd_add=1 \n", 0, 1 },		/* trailing space */
	{ "site=Dallas\tcmd_add=1\n", 0, 1 },		/* tab */
	{ "site=Dallas cmd_add=1\r\n", 0, 1 },		/* CR */
	{ "site=Dallas cmd_add=1\0\n", 23, 1 },		/* NUL */
	{ "site=Dal\xc3\xa9s cmd_add=1\n", 0, 1 },	/* non-ASCII */
	{ "site=dallas cmd_add=1\n", 0, 1 },		/* case matters */
	{ "SITE=Dallas cmd_add=1\n", 0, 1 },
	{ "site=Dallas cmd_add=1\nsite=Dallas cmd_add=x\n", 0, 2 },
	{ "site=Dallas=x cmd_add=1\n", 0, 1 },
	{ "site=Dallas fault=\n", 0, 1 },
};

static int t_cmd_bad(void)
{
	struct tsim t;
	struct ofsim_cmd cmds[16];
	char longline[400];
	u8 *before;
	unsigned k;

	CHECK(!tsim_new(&t, 4, 1, 1, 0, T0), "init");
	tick(&t);
	before = malloc(tsim_bytes(&t));
	memcpy(before, t.pages, tsim_bytes(&t));
	CHECK(sizeof(bad_cmds) / sizeof(bad_cmds[0]) >= 25, "table too small");
	for (k = 0; k <= sizeof(bad_cmds) / sizeof(bad_cmds[0]); k++) {
		const char *l, *err = NULL;
		size_t len;
		int n, el = 0, want = 1;

		if (k == sizeof(bad_cmds) / sizeof(bad_cmds[0])) {
			/* overlong: 257 bytes with the newline */
			memset(longline, 'x', sizeof(longline));
			memcpy(longline, "site=Dallas cmd_add=1 x=", 24);
			longline[256] = '\n';
			l = longline;
			len = 257;
		} else {
			l = bad_cmds[k].line;
			len = bad_cmds[k].len ? bad_cmds[k].len : strlen(l);
			want = bad_cmds[k].err_line;
		}
		n = ofsim_cmd_parse(&t.sim, l, len, cmds, 16, &err, &el);
		CHECK(n == -EINVAL && err && *err && el == want,
		      "case %u accepted or wrong line (n %d line %d/%d err %s)",
		      k, n, el, want, err ? err : "-");
		CHECK(!memcmp(before, t.pages, tsim_bytes(&t)),
		      "case %u changed the pages", k);
	}
	/* the good ones, and the exact 256-byte limit */
	{
		static const char *const good[] = {
			"site=Dallas cmd_add=64\n",
			"cmd_remove=1 site=Stone\n",
			"site=Dobbins fault=ber_creep duration=604800\n",
			"duration=60 fault=crc_burst site=MicrosoftDC\n",
			"site=Dallas fault=clear\n",
			"site=Dallas cmd_add=1\nsite=Stone cmd_add=2\n",
		};
		const char *err;
		int el;

		for (k = 0; k < sizeof(good) / sizeof(good[0]); k++)
			CHECK(ofsim_cmd_parse(&t.sim, good[k], strlen(good[k]),
					      cmds, 16, &err, &el) >= 1,
			      "good line %u rejected: %s", k, err);
		memset(longline, 'x', sizeof(longline));
		memcpy(longline, "site=Dallas cmd_add=1", 21);
		longline[21] = ' ';
		CHECK(ofsim_cmd_parse(&t.sim, longline, 257, cmds, 16, &err,
				      &el) == -EINVAL, "unknown key accepted");
		CHECK(ofsim_cmd_parse(&t.sim, "site=Dallas cmd_add=1\n", 22,
				      cmds, 0, &err, &el) == -EINVAL,
		      "more commands than max accepted");
	}
	free(before);
	tsim_free(&t);
	return 1;
}

static int t_random_fault_rate(void)
{
	struct tsim t;
	u64 total = 0, prev[100] = { 0 };
	u32 kinds = 0, i, tk;

	/* 2 faults per site per day, 100 sites, 7 days at 1 min per tick */
	CHECK(!tsim_new(&t, 100, 5, 60, 2000, T0), "init");
	for (tk = 0; tk < 7 * 1440; tk++) {
		tick(&t);
		for (i = 0; i < 100; i++) {
			if (pg(&t, i)->faults_total != prev[i])
				kinds |= 1U << pg(&t, i)->fault;
			prev[i] = pg(&t, i)->faults_total;
		}
	}
	for (i = 0; i < 100; i++)
		total += pg(&t, i)->faults_total;
	/*
	 * Expected 1400 less the time already in a fault (~3 %, random
	 * faults do not overlap): ~1360, sd ~37.
	 */
	CHECK(total > 1200 && total < 1550, "%llu faults, expected ~1360",
	      (unsigned long long)total);
	CHECK(kinds == 0x7e, "not every kind appeared: %#x", kinds);
	tsim_free(&t);
	return 1;
}

/*
 * Not a test: `sim-test --bench N` prints the cost of one tick, as JSON, for
 * bench/sim-tick.mjs. Timing belongs in benchmarks, not in pass/fail tests.
 */
static int bench_tick_cost(u32 n)
{
	struct tsim t;
	struct timespec a, b;
	u32 i, ticks = n >= 1000 ? 50 : 2000;

	if (tsim_new(&t, n, 1, 1, 1000, T0)) {
		fprintf(stderr, "sim-test: cannot set up %u sites\n", n);
		return 1;
	}
	tick(&t);
	printf("{\"sites\":%u,\"tick_ns\":[", n);
	for (i = 0; i < ticks; i++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		tick(&t);
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%s%lld", i ? "," : "",
		       (long long)((b.tv_sec - a.tv_sec) * 1000000000LL +
				   (b.tv_nsec - a.tv_nsec)));
	}
	printf("]}\n");
	tsim_free(&t);
	return 0;
}

static int t_init_rejects(void)
{
	static const char *const dup[] = { "A", "B", "A" };
	static const char *const bad[] = { "A", "B C" };
	static const char *const lng[] = {
		"abcdefghijklmnopqrstuvwxyz0123456" };
	struct ofsim_params p = { .seed = 1, .tick_ms = 1000,
				  .time_scale = 1, .nsites = 3 };
	struct ofsim sim;
	const char *err;
	void *pages = calloc(4, OPTIFIBER_PAGE_SIZE);
	void *sites = calloc(1, ofsim_sites_size(3));

	CHECK(ofsim_init(&sim, &p, dup, sites, pages, "t", 1, &err) == -EINVAL,
	      "duplicate names accepted");
	p.nsites = 2;
	CHECK(ofsim_init(&sim, &p, bad, sites, pages, "t", 1, &err) == -EINVAL,
	      "space in name accepted");
	p.nsites = 1;
	CHECK(ofsim_init(&sim, &p, lng, sites, pages, "t", 1, &err) == -EINVAL,
	      "33-char name accepted");
	p.nsites = 2;
	p.time_scale = 0;
	CHECK(ofsim_init(&sim, &p, dup, sites, pages, "t", 1, &err) == -EINVAL,
	      "time_scale 0 accepted");
	p.time_scale = 1;
	p.tick_ms = 5;
	CHECK(ofsim_init(&sim, &p, dup, sites, pages, "t", 1, &err) == -EINVAL,
	      "tick_ms 5 accepted");
	p.tick_ms = 1000;
	CHECK(!ofsim_init(&sim, &p, dup, sites, pages, "t", 1, &err),
	      "two good names rejected: %s", err);
	free(pages);
	free(sites);
	return 1;
}

/* ------------------------------------------------ user-space host */

#define SIM_BIN	"build/optifiber-sim"

static int t_host_smoke(void)
{
	char dir[] = "/tmp/ofsim-test-XXXXXX", path[256], buf[512];
	char *argv[] = { SIM_BIN, "run", "--dir", dir, "--nsites", "3",
			 "--max-ticks", "50", "--fast", "--seed", "9",
			 "--sim-start", "1763251200", NULL };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	posix_spawn_file_actions_t fa;
	struct optifiber_dir d;
	struct stat st;
	int out[2], fd, status;
	ssize_t r;
	size_t got = 0;
	pid_t pid;

	if (access(SIM_BIN, X_OK)) {
		printf("SKIP host_smoke: %s not built (make sim)\n", SIM_BIN);
		return 1;
	}
	CHECK(mkdtemp(dir) && !pipe(out), "mkdtemp/pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	CHECK(!posix_spawn(&pid, SIM_BIN, &fa, NULL, argv, environ), "spawn");
	close(out[1]);
	while (got < sizeof(buf) - 1 && !memchr(buf, '\n', got)) {
		r = read(out[0], buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	CHECK(strstr(buf, "{\"event\":\"ready\"") && strstr(buf, "\"sites\":3"),
	      "ready line: %s", buf);
	snprintf(path, sizeof(path), "%s/myinfo", dir);
	CHECK(!stat(path, &st) && (st.st_mode & 0777) == 0444 &&
	      st.st_size == 4 * OPTIFIBER_PAGE_SIZE, "pages file mode/size");
	/* wait for the 50 fast ticks */
	for (int i = 0; i < 200; i++) {
		fd = open(path, O_RDONLY);
		CHECK(fd >= 0 && pread(fd, &d, sizeof(d), 0) == sizeof(d),
		      "read dir");
		close(fd);
		if (d.tick == 50)
			break;
		usleep(10000);
	}
	CHECK(d.tick == 50 && (d.flags & OPTIFIBER_DIR_F_LIVE) &&
	      !strcmp(d.host, "userspace"), "tick %llu flags %#x",
	      (unsigned long long)d.tick, d.flags);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/cmd_control", dir);
	CHECK(!stat(sa.sun_path, &st) && S_ISSOCK(st.st_mode) &&
	      (st.st_mode & 0777) == 0600, "control socket mode");
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(!connect(fd, (struct sockaddr *)&sa, sizeof(sa)), "connect");
	CHECK(write(fd, "site=site-00002 cmd_add=1\nsite=x cmd_add=1\n", 43) ==
	      43, "write");
	got = 0;
	while (got < sizeof(buf) - 1) {
		r = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		buf[got] = '\0';
		if (strstr(buf, "\nerror") && buf[got - 1] == '\n')
			break;
	}
	close(fd);
	CHECK(!strcmp(buf, "ok\nerror EINVAL: unknown site\n"), "replies: %s",
	      buf);
	kill(pid, SIGTERM);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0, "exit status %#x", status);
	CHECK(access(path, F_OK) && access(sa.sun_path, F_OK),
	      "files left behind");
	rmdir(dir);
	close(out[0]);
	return 1;
}

/* ------------------------------------------------- arithmetic limits */

typedef unsigned __int128 u128;

/*
 * The tightest ofsim_mul_div() bound (ofsim.c): post-FEC at the largest
 * pre-FEC BER that takes the waterfall path, computed again in 128 bits
 * without any truncation; and the kernel's non-x86 long division against
 * 128-bit division, at q = 2^64 - 1 and on random operands.
 */
static int t_muldiv_limits(void)
{
	u64 pre = 40 * OFSIM_FEC_LIMIT_E18 - 1, x, x2, x4, got, rnd = 12345;
	u128 x8, want;
	int i;

	x = (u64)((u128)pre * 65536 / OFSIM_FEC_LIMIT_E18);
	x2 = x * x >> 16;
	x4 = x2 * x2 >> 16;
	x8 = (u128)x4 * x4 >> 16;
	want = x8 * 1000000 / 65536;
	CHECK(want < ((u128)1 << 64), "post-FEC quotient %.3g does not fit 64 bits",
	      (double)want);
	printf("INFO muldiv: largest post-FEC quotient %.4g = 2^64 / %.2f\n",
	       (double)want, 18446744073709551616.0 / (double)want);
	got = ofsim_post_fec_ber_e18(pre);
	CHECK(got == (want < pre ? (u64)want : pre), "post_fec(%llu) = %llu, want %llu",
	      (unsigned long long)pre, (unsigned long long)got,
	      (unsigned long long)(want < pre ? (u64)want : pre));

	CHECK(ofsim_mul_div_long(~0ULL, ~0ULL, ~0ULL) == ~0ULL, "q = 2^64 - 1 (a = b = c)");
	CHECK(ofsim_mul_div_long(~0ULL, 1ULL << 63, 1ULL << 63) == ~0ULL, "q = 2^64 - 1 (b = c)");
	CHECK(ofsim_mul_div_long(1ULL << 63, 3, 2) == (3ULL << 62), "3 * 2^63 / 2");
	for (i = 0; i < 200000; i++) {
		u64 a = rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
		u64 b = (rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL) >> (i % 64);
		u64 c = (rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL) | 1;
		u128 q = (u128)a * b / c;

		if (q >> 64)
			continue;	/* outside the contract */
		CHECK(ofsim_mul_div_long(a, b, c) == (u64)q,
		      "long division %llu * %llu / %llu", (unsigned long long)a,
		      (unsigned long long)b, (unsigned long long)c);
	}
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--bench"))
		return bench_tick_cost((u32)strtoul(argv[2], NULL, 10));

	run("ber_table_monotonic_and_calibrated", t_ber_table);
	run("muldiv_limits", t_muldiv_limits);
	run("start_utilization_30_75", t_start_utilization);
	run("tick_publish_headers", t_tick_publish);
	run("recent_ring_holds_the_last_samples", t_recent_ring);
	run("counters_monotonic_week_all_faults", t_counters_week);
	run("growth_week4_over_week1", t_growth);
	run("seasonality_day_night", t_seasonality);
	run("noise_zero_mean_stationary", t_noise_stationary);
	run("fault_fiber_cut_twin", t_fault_fiber_cut);
	run("fault_osnr_degrade_twin", t_fault_osnr_degrade);
	run("fault_ber_creep_twin", t_fault_ber_creep);
	run("fault_amp_failure_twin", t_fault_amp_failure);
	run("fault_crc_burst_twin", t_fault_crc_burst);
	run("fault_traffic_surge_twin", t_fault_traffic_surge);
	run("fault_clear_and_default_duration", t_fault_clear);
	run("determinism_same_seed_and_different_seed", t_determinism);
	run("cmd_add_capacity_next_tick", t_cmd_add);
	run("cmd_erange_all_or_nothing", t_cmd_erange);
	run("external_sites_left_to_the_host", t_external_sites);
	run("cmd_bad_lines_rejected", t_cmd_bad);
	run("init_rejects_bad_params", t_init_rejects);
	run("random_fault_rate", t_random_fault_rate);
	run("host_smoke", t_host_smoke);
	return of_test_summary();
}
