// SPDX-License-Identifier: GPL-2.0
/*
 * sim-trace: the OptiFiber simulation core (kernel/sim), driven as fast as
 * possible, writing the first 248 bytes of every site page after every
 * tick to stdout: the training/evaluation data source of `optifiber train`
 * and `npm run eval`. The same core, parameters and seed as
 * `optifiber-sim run --fast`, but a time series instead of the last page.
 *
 *   sim-trace SEED NSITES TICKS TIME_SCALE FAULT_RATE_X1000 [START_S]
 */
#include <stdio.h>
#include <stdlib.h>
#include "../../../../kernel/sim/ofsim.h"

#define REC 248

int main(int argc, char **argv)
{
	struct ofsim sim;
	struct ofsim_params p;
	const char *err = "";
	char (*names)[32];
	const char **np;
	void *sites, *pages;
	unsigned long long ticks, k;
	u32 i;

	if (argc < 6) {
		fprintf(stderr, "usage: sim-trace SEED NSITES TICKS TIME_SCALE FAULT_RATE [START_S]\n");
		return 2;
	}
	memset(&p, 0, sizeof(p));
	p.seed = strtoull(argv[1], NULL, 0);
	p.nsites = (u32)strtoul(argv[2], NULL, 0);
	ticks = strtoull(argv[3], NULL, 0);
	p.time_scale = (u32)strtoul(argv[4], NULL, 0);
	p.fault_rate = (u32)strtoul(argv[5], NULL, 0);
	p.sim_start_s = argc > 6 ? strtoull(argv[6], NULL, 0) : 1767225600ULL; /* 2026-01-01 */
	p.tick_ms = 1000;
	names = calloc(p.nsites, 32);
	np = calloc(p.nsites, sizeof(*np));
	for (i = 0; i < p.nsites; i++) {
		snprintf(names[i], 32, "site%u", i);
		np[i] = names[i];
	}
	sites = calloc(1, ofsim_sites_size(p.nsites));
	pages = calloc(1 + p.nsites, OPTIFIBER_PAGE_SIZE);
	if (!names || !np || !sites || !pages)
		return 1;
	if (ofsim_init(&sim, &p, np, sites, pages, "trace", 1, &err)) {
		fprintf(stderr, "sim-trace: %s\n", err);
		return 2;
	}
	for (k = 0; k < ticks; k++) {
		ofsim_tick(&sim, (p.sim_start_s + (k + 1) * p.time_scale) * 1000000000ULL);
		for (i = 0; i < p.nsites; i++)
			fwrite((char *)pages + (size_t)(1 + i) * OPTIFIBER_PAGE_SIZE, 1, REC, stdout);
	}
	return fflush(stdout) ? 1 : 0;
}
