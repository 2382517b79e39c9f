// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the replay source (userspace/ofreplay.c): the three
 * recording formats, the field mapping and units, absent bits, the
 * reordering tolerance, errors with their line, and publishing through
 * ofsim_page_publish() into real pages.
 *
 * Prints "PASS name" or "FAIL name: why" per case; exits non-zero on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../userspace/ofreplay.h"
#include "of_test.h"

static char path[] = "/tmp/ofreplay-test-XXXXXX";

static void put(const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

/* Pages for a recording: ofsim_init() lays them out, as optifiber-sim does. */
struct pages {
	struct ofsim	sim;
	void		*mem;
	void		*sites;
};

static int pages_init(struct pages *pg, struct ofreplay *rp)
{
	struct ofsim_params p = { .seed = 1, .sim_start_s = rp->first_ms / 1000,
				  .tick_ms = 1000, .time_scale = 1,
				  .nsites = rp->nsites };
	const char *err;

	pg->mem = calloc(1 + rp->nsites, OPTIFIBER_PAGE_SIZE);
	pg->sites = calloc(1, ofsim_sites_size(rp->nsites));
	return ofsim_init(&pg->sim, &p, (const char *const *)rp->names,
			  pg->sites, pg->mem, "userspace", 1, &err);
}

static struct optifiber_site *page(struct pages *pg, u32 i)
{
	return (struct optifiber_site *)((u8 *)pg->mem +
					 (size_t)(1 + i) * OPTIFIBER_PAGE_SIZE);
}

static const char optical[] =
	"Timestamp,Type,ID,BER,OSNR,InputPower,OutputPower,Failure\n"
	"1624457562,Devices,SPO1/18/11,2.31E-08,38.6,,,\n"
	"1624457562,Infrastructure,Ampli1,,,-19.2,0.7,\n"
	"1624457565,Devices,SPO2/18/11,1.5E-04,18.3,,,1\n"
	"1624457563,Infrastructure,Ampli1,,,-29.1,0.7,1\n"	/* 2 s late */
	"1624457570,Devices,SPO1/18/11,2.5E-08,38.5,,,\n";

static int t_optical(void)
{
	struct ofreplay rp;
	struct pages pg;
	struct optifiber_site *s;
	int r;

	put(optical);
	CHECK(!ofreplay_open(&rp, path, NULL, 1), "open: %s", rp.err);
	CHECK(rp.format == OFREPLAY_OPTICAL, "format %d", rp.format);
	CHECK(rp.nsites == 3 && !strcmp(rp.names[0], "SPO1-18-11") &&
	      !strcmp(rp.names[1], "Ampli1") &&
	      !strcmp(rp.names[2], "SPO2-18-11"),
	      "sites %u %s %s", rp.nsites, rp.names[0], rp.names[1]);
	CHECK(rp.rows == 5 && rp.first_ms == 1624457562000ULL &&
	      rp.last_ms == 1624457570000ULL, "rows %llu first %llu last %llu",
	      (unsigned long long)rp.rows, (unsigned long long)rp.first_ms,
	      (unsigned long long)rp.last_ms);
	CHECK(!pages_init(&pg, &rp), "ofsim_init");

	r = ofreplay_tick(&rp, &pg.sim, 1624457562000ULL, 42);
	CHECK(r == 0, "advance to first: %d %s", r, rp.err);
	s = page(&pg, 0);
	CHECK(s->flags & OPTIFIBER_SITE_F_VALID, "SPO1 valid");
	CHECK(s->osnr_cdb == 3860 && s->pre_fec_ber_e18 == 23100000000ULL,
	      "SPO1 osnr %d ber %llu", s->osnr_cdb,
	      (unsigned long long)s->pre_fec_ber_e18);
	CHECK(s->absent == (OPTIFIBER_ABSENT_ALL &
			    ~(OPTIFIBER_ABSENT_OSNR | OPTIFIBER_ABSENT_PRE_FEC_BER)),
	      "SPO1 absent %#llx", (unsigned long long)s->absent);
	CHECK(s->throughput_bps == 0 && s->link_state == 0 &&
	      s->sim_time_s == 1624457562 && s->update_time_ns == 42,
	      "absent fields are 0, times");
	s = page(&pg, 1);
	CHECK(s->rx_power_cdbm == -1920 && s->tx_power_cdbm == 70 &&
	      s->absent == (OPTIFIBER_ABSENT_ALL &
			    ~(OPTIFIBER_ABSENT_RX_POWER | OPTIFIBER_ABSENT_TX_POWER)),
	      "Ampli1 rx %d tx %d absent %#llx", s->rx_power_cdbm,
	      s->tx_power_cdbm, (unsigned long long)s->absent);
	CHECK(!(page(&pg, 2)->flags & OPTIFIBER_SITE_F_VALID),
	      "SPO2 has no row yet: no sample");

	/* the late Ampli1 row comes with the row before it */
	r = ofreplay_tick(&rp, &pg.sim, 1624457565000ULL, 43);
	CHECK(page(&pg, 1)->rx_power_cdbm == -2910,
	      "late row applied with its predecessor: rx %d",
	      page(&pg, 1)->rx_power_cdbm);
	/* a site's time is its row's; the directory's is the replay clock */
	CHECK(page(&pg, 0)->sim_time_s == 1624457562 &&
	      page(&pg, 1)->sim_time_s == 1624457563 &&
	      page(&pg, 2)->sim_time_s == 1624457565 &&
	      pg.sim.dir->sim_time_s == 1624457565,
	      "held SPO1 %llu, Ampli1 %llu, SPO2 %llu, dir %llu",
	      (unsigned long long)page(&pg, 0)->sim_time_s,
	      (unsigned long long)page(&pg, 1)->sim_time_s,
	      (unsigned long long)page(&pg, 2)->sim_time_s,
	      (unsigned long long)pg.sim.dir->sim_time_s);
	CHECK(page(&pg, 2)->osnr_cdb == 1830 &&
	      page(&pg, 2)->pre_fec_ber_e18 == 150000000000000ULL,
	      "SPO2 osnr %d", page(&pg, 2)->osnr_cdb);
	r = ofreplay_tick(&rp, &pg.sim, UINT64_MAX, 45);
	CHECK(r == 1, "end of recording: %d", r);
	CHECK(pg.sim.dir->flags == (OPTIFIBER_DIR_F_LIVE | OPTIFIBER_DIR_F_REPLAY),
	      "dir flags %#x", pg.sim.dir->flags);
	CHECK(!(pg.sim.dir->seq & 1) && !(page(&pg, 0)->seq & 1),
	      "seqcounts even after publishing");
	/* --loop: each site's time starts again with the recording */
	CHECK(!ofreplay_rewind(&rp), "rewind: %s", rp.err);
	ofreplay_tick(&rp, &pg.sim, 1624457562000ULL, 44);
	CHECK(page(&pg, 0)->sim_time_s == 1624457562,
	      "SPO1 time after rewind %llu",
	      (unsigned long long)page(&pg, 0)->sim_time_s);
	ofreplay_close(&rp);
	return 1;
}

static int t_traffic(void)
{
	struct ofreplay rp;
	struct pages pg;
	struct optifiber_site *s;

	put("Time,\"Internet traffic, in bits, five minute intervals\",\n"
	    "2004-11-19 09:30:00,4838.665,\n"
	    "2004-11-19 09:35:00,4845.177,\n");
	CHECK(!ofreplay_open(&rp, path, "uk-backbone", 1e6), "open: %s", rp.err);
	CHECK(rp.format == OFREPLAY_TRAFFIC && rp.nsites == 1 &&
	      !strcmp(rp.names[0], "uk-backbone"), "format %d", rp.format);
	CHECK(rp.first_ms == 1100856600000ULL, "ISO time as UTC: %llu",
	      (unsigned long long)rp.first_ms);
	CHECK(!pages_init(&pg, &rp), "ofsim_init");
	ofreplay_tick(&rp, &pg.sim, rp.last_ms, 1);
	s = page(&pg, 0);
	CHECK(s->throughput_bps == 4845177000ULL, "value x scale: %llu",
	      (unsigned long long)s->throughput_bps);
	CHECK(s->absent == (OPTIFIBER_ABSENT_ALL & ~OPTIFIBER_ABSENT_THROUGHPUT),
	      "only throughput present: %#llx", (unsigned long long)s->absent);
	ofreplay_close(&rp);
	return 1;
}

static int t_report(void)
{
	struct ofreplay rp;
	struct pages pg;
	struct optifiber_site *s;

	put("timestamp,site,instance,throughput_avg_bytes_per_second,throughput_max_bytes_per_second,offered_load_avg_bytes_per_second,capacity_bytes_per_second,utilization_avg_ratio,utilization_max_ratio,cmd_modules,cmd_modules_max,link_up_avg_ratio,osnr_min_db,osnr_avg_db,pre_fec_ber_max_ratio,anomaly_score_max,forecast_utilization_p50_ratio,forecast_utilization_p90_ratio\n"
	    "2026-12-01T00:05:00Z,Dallas,127.0.0.1:9886,5e10,6e10,5e10,1e11,0.5,0.6,2,16,1,24.1,24.9,3.2e-7,0.1,0.5,0.6\n"
	    "2026-12-01T00:05:00Z,Stone,127.0.0.1:9886,1e10,,,,,,,,0.25,,NaN,,,,\n");
	CHECK(!ofreplay_open(&rp, path, NULL, 1), "open: %s", rp.err);
	CHECK(rp.format == OFREPLAY_REPORT && rp.nsites == 2, "format %d sites %u",
	      rp.format, rp.nsites);
	CHECK(!pages_init(&pg, &rp), "ofsim_init");
	ofreplay_tick(&rp, &pg.sim, rp.last_ms, 1);
	s = page(&pg, 0);
	CHECK(s->throughput_bps == 400000000000ULL &&
	      s->capacity_bps == 800000000000ULL && s->cmd_modules == 2 &&
	      s->cmd_modules_max == 16 && s->link_state == OPTIFIBER_LINK_UP &&
	      s->osnr_cdb == 2490 && s->pre_fec_ber_e18 == 320000000000ULL,
	      "Dallas thr %llu cap %llu mods %u osnr %d",
	      (unsigned long long)s->throughput_bps,
	      (unsigned long long)s->capacity_bps, s->cmd_modules, s->osnr_cdb);
	CHECK(!(s->absent & (OPTIFIBER_ABSENT_THROUGHPUT | OPTIFIBER_ABSENT_OFFERED |
			     OPTIFIBER_ABSENT_CAPACITY | OPTIFIBER_ABSENT_CMD_MODULES |
			     OPTIFIBER_ABSENT_LINK_STATE | OPTIFIBER_ABSENT_OSNR |
			     OPTIFIBER_ABSENT_PRE_FEC_BER)) &&
	      (s->absent & OPTIFIBER_ABSENT_RX_POWER), "Dallas absent %#llx",
	      (unsigned long long)s->absent);
	s = page(&pg, 1);
	CHECK(s->link_state == OPTIFIBER_LINK_DOWN &&
	      (s->absent & OPTIFIBER_ABSENT_OSNR) &&
	      (s->absent & OPTIFIBER_ABSENT_CAPACITY) &&
	      !(s->absent & OPTIFIBER_ABSENT_THROUGHPUT),
	      "Stone: empty and NaN cells are absent, link 0.25 is down: %#llx",
	      (unsigned long long)s->absent);
	ofreplay_close(&rp);
	return 1;
}

/*
 * A fast replay applies several rows of a site in one tick: each row of a
 * new second is a sample of its own (the page's recent ring holds them all),
 * rows of the same second are one sample, and sample_seq counts a site's
 * own samples.
 */
static int t_every_row(void)
{
	static const char rows[] =
		"Timestamp,Type,ID,BER,OSNR,InputPower,OutputPower,Failure\n"
		"1624457562,Devices,SPO1/18/11,2.31E-08,38.6,,,\n"
		"1624457562,Infrastructure,Ampli1,,,-19.2,0.7,\n"
		"1624457565,Devices,SPO1/18/11,2.40E-08,38.1,,,\n"
		"1624457565,Infrastructure,Ampli1,,,-19.4,,\n"
		"1624457565,Infrastructure,Ampli1,,,,0.9,\n"
		"1624457568,Devices,SPO1/18/11,2.50E-08,37.7,,,\n";
	static const int osnr[] = { 3860, 3810, 3770 };
	struct ofreplay rp;
	struct pages pg;
	struct optifiber_site *s;
	u64 k;

	put(rows);
	CHECK(!ofreplay_open(&rp, path, NULL, 1), "open: %s", rp.err);
	CHECK(!pages_init(&pg, &rp), "ofsim_init");
	CHECK(ofreplay_tick(&rp, &pg.sim, rp.last_ms, 7) >= 0, "tick: %s",
	      rp.err);
	s = page(&pg, 0);
	CHECK(s->sample_seq == 3 && s->osnr_cdb == 3770,
	      "SPO1: 3 rows, 3 samples: seq %llu osnr %d",
	      (unsigned long long)s->sample_seq, s->osnr_cdb);
	for (k = 1; k <= 3; k++) {
		struct optifiber_site e;

		memcpy((u8 *)&e + OPTIFIBER_SAMPLE_OFFSET,
		       s->recent[k % OPTIFIBER_RECENT], OPTIFIBER_SAMPLE_LEN);
		CHECK(e.sample_seq == k && e.osnr_cdb == osnr[k - 1] &&
		      e.sim_time_s == 1624457562 + 3 * (k - 1),
		      "SPO1 sample %llu: seq %llu osnr %d time %llu",
		      (unsigned long long)k, (unsigned long long)e.sample_seq,
		      e.osnr_cdb, (unsigned long long)e.sim_time_s);
	}
	s = page(&pg, 1);
	CHECK(s->sample_seq == 2 && s->rx_power_cdbm == -1940 &&
	      s->tx_power_cdbm == 90,
	      "Ampli1: two rows of one second are one sample: seq %llu rx %d tx %d",
	      (unsigned long long)s->sample_seq, s->rx_power_cdbm,
	      s->tx_power_cdbm);
	/* a held row is published again each tick, a new sample of it */
	ofreplay_tick(&rp, &pg.sim, rp.last_ms + 1000, 8);
	CHECK(page(&pg, 0)->sample_seq == 4 &&
	      page(&pg, 0)->sim_time_s == 1624457568, "held: seq %llu",
	      (unsigned long long)page(&pg, 0)->sample_seq);
	ofreplay_close(&rp);
	return 1;
}

static int expect_error(const char *text, const char *needle)
{
	struct ofreplay rp;
	int r;

	put(text);
	r = ofreplay_open(&rp, path, NULL, 1);
	CHECK(r == -1, "accepted: %.60s", text);
	CHECK(strstr(rp.err, needle), "error \"%s\" lacks \"%s\"", rp.err,
	      needle);
	ofreplay_close(&rp);
	return 1;
}

static int t_errors(void)
{
	return expect_error("a,b,c,d\n1,2,3,4\n", "unknown format") &&
	       expect_error("Timestamp,Type,ID,BER,OSNR\n1,Devices,X,abc,1\n",
			    "line 2: BER: not a number") &&
	       expect_error("Timestamp,Type,ID,BER,OSNR\n100,Devices,X,1,1\n"
			    "30,Devices,X,1,1\n", "line 3: time goes back") &&
	       expect_error("timestamp,value\nyesterday,1\n",
			    "bad timestamp") &&
	       expect_error("timestamp,value\n", "no data rows") &&
	       expect_error("", "empty file");
}

int main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return 2;
	close(fd);
	run("replay_optical_testbed_mapping_and_absent_bits", t_optical);
	run("replay_timestamp_value_traffic", t_traffic);
	run("replay_every_row_a_sample_of_its_own", t_every_row);
	run("replay_report_csv_round_trip_fields", t_report);
	run("replay_errors_name_the_line", t_errors);
	unlink(path);
	return of_test_summary();
}
