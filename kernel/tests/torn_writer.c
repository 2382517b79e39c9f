// SPDX-License-Identifier: GPL-2.0
/*
 * Stress writer for the reader's seqcount handling.  Creates an OptiFiber
 * page file (temp file + rename, like the simulator) and rewrites every site
 * as fast as it can under the page and directory seqcounts.  Every numeric
 * field of site i is a known function of (sample_seq, i) -- see
 * exporter/test/torn-read.test.ts, which checks them -- so a reader that
 * mixes two writes of a page, or two ticks in a "consistent" snapshot, is
 * caught.
 *
 *   torn_writer PATH SITES MAX_SECONDS [GAP_NS]
 *
 * Prints "ready" once PATH exists; runs until SIGTERM/SIGINT or MAX_SECONDS;
 * then clears OPTIFIBER_DIR_F_LIVE and prints "ticks N" on stdout.  GAP_NS
 * busy-waits between ticks so the directory seq is also seen even.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* the simulator's writer helpers: the reader is tested against the real protocol */
#include "../sim/ofsim.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static unsigned long long now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The same functions as expectedSite() in torn-read.test.ts. */
static void fill_site(struct optifiber_site *p, __u64 s, __u32 i)
{
	p->sample_seq = s;
	p->update_time_ns = s * 1000000ULL + i;
	p->sim_time_s = s * 60;
	p->throughput_bps = s * 7 + i;
	p->offered_bps = s * 11 + i;
	p->capacity_bps = s * 13 + i;
	p->module_capacity_bps = s * 17 + i;
	p->cmd_modules = (__u32)((s + i) % 9);
	p->cmd_modules_max = (__u32)(s % 1000) + i;
	p->link_state = (__u32)(s % 3);
	p->bytes = s * 1500 + i;
	p->crc_errors = s * 3 + i;
	p->fec_corrected_bits = s * 1000003ULL + i;	/* crosses 2^32 early */
	p->fec_uncorrectable_blocks = s * 5 + i;
	p->los_events = s / 7;
	p->pre_fec_ber_e18 = s * 100003ULL + i;
	p->post_fec_ber_e18 = s % 1000;
	p->osnr_cdb = (__s32)(s % 4000) - 2000 + (__s32)i;
	p->q_factor_cdb = -(__s32)(s % 500);
	p->rx_power_cdbm = (__s32)(s % 3000) - 3000;
	p->tx_power_cdbm = (__s32)(s % 300);
	p->chromatic_dispersion_ps_nm = (__s32)(s % 2001) - 1000;
	p->laser_bias_ua = (__u32)(s % 100000);
	p->temperature_mc = (__s32)(s % 90000) - 40000;
	p->fault = (__u32)(s % OPTIFIBER_FAULT_COUNT);
	p->fault_start_sim_s = s * 2;
	p->fault_end_sim_s = s * 2 + 10;
	p->faults_total = s / 3 + i;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s PATH SITES MAX_SECONDS [GAP_NS]\n", argv[0]);
		return 2;
	}
	const char *path = argv[1];
	unsigned sites = (unsigned)strtoul(argv[2], NULL, 10);
	unsigned long long deadline = now_ns(CLOCK_MONOTONIC) + strtoull(argv[3], NULL, 10) * 1000000000ULL;
	unsigned long long gap_ns = argc > 4 ? strtoull(argv[4], NULL, 10) : 0;
	size_t len = (size_t)(1 + sites) * OPTIFIBER_PAGE_SIZE;
	char temp[4096];

	if (sites == 0 || sites > OPTIFIBER_MAX_SITES)
		return 2;
	snprintf(temp, sizeof(temp), "%s.tmp.%d", path, (int)getpid());
	int fd = open(temp, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)len) != 0) {
		perror(temp);
		return 1;
	}
	char *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	close(fd);

	struct optifiber_dir *dir = (struct optifiber_dir *)map;
	dir->magic = OPTIFIBER_MAGIC;
	dir->abi_major = OPTIFIBER_ABI_MAJOR;
	dir->abi_minor = OPTIFIBER_ABI_MINOR;
	dir->page_size = OPTIFIBER_PAGE_SIZE;
	dir->site_count = sites;
	dir->tick_interval_ms = 1000;
	dir->time_scale = 1;
	dir->generation = now_ns(CLOCK_REALTIME);
	dir->update_time_ns = now_ns(CLOCK_REALTIME);
	strcpy(dir->host, "userspace");
	for (unsigned i = 0; i < sites; i++) {
		struct optifiber_site *p = (struct optifiber_site *)(map + (size_t)(1 + i) * OPTIFIBER_PAGE_SIZE);

		p->magic = OPTIFIBER_SITE_MAGIC;
		p->abi_major = OPTIFIBER_ABI_MAJOR;
		p->abi_minor = OPTIFIBER_ABI_MINOR;
		p->site_index = i;
		p->flags = OPTIFIBER_SITE_F_VALID;
		snprintf(p->name, sizeof(p->name), "site-%u", i);
		fill_site(p, 0, i);
	}
	dir->flags = OPTIFIBER_DIR_F_LIVE;
	if (rename(temp, path) != 0) {
		perror("rename");
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready\n");
	fflush(stdout);

	__u64 s = 0;
	while (!stop) {
		s++;
		ofsim_seq_write_begin(&dir->seq);	/* odd: tick in progress */
		for (unsigned i = 0; i < sites; i++) {
			struct optifiber_site *p = (struct optifiber_site *)(map + (size_t)(1 + i) * OPTIFIBER_PAGE_SIZE);

			ofsim_seq_write_begin(&p->seq);
			fill_site(p, s, i);
			ofsim_seq_write_end(&p->seq);
		}
		dir->tick = s;
		dir->sim_time_s = s * 60;
		dir->update_time_ns = now_ns(CLOCK_REALTIME);
		ofsim_seq_write_end(&dir->seq);	/* even: tick complete */

		unsigned long long t = now_ns(CLOCK_MONOTONIC);
		if (t > deadline)
			break;
		while (gap_ns && now_ns(CLOCK_MONOTONIC) - t < gap_ns)
			;
	}
	dir->flags &= ~OPTIFIBER_DIR_F_LIVE;
	printf("ticks %llu\n", (unsigned long long)s);
	return 0;
}
