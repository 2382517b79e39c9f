// SPDX-License-Identifier: GPL-2.0
/*
 * The reader loop documented in include/uapi/linux/optifiber.h, compiled
 * as it stands there: the Makefile cuts it out of the header comment into
 * build/reader_example.inc, so a wrong example fails here, not in a
 * reader that copied it.
 *
 *   reader_example_waits_for_writer  a page whose seq is odd is not
 *                                    returned until the writer finishes
 *   reader_example_no_torn_copy      against a writer rewriting the page
 *                                    with ofsim_seq_write_begin()/_end(),
 *                                    every copy is one whole write
 *
 * Prints "PASS name" or "FAIL name: why" per case, then "N passed, N failed".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../sim/ofsim.h"
#include "of_test.h"

/* The kernel primitives the example uses, as a user-space reader has them. */
#ifndef READ_ONCE
#define READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))
#endif
#ifndef smp_rmb
#define smp_rmb()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif
#define cpu_relax()	sched_yield()

/* The example from the header, verbatim. */
static void example_read(const struct optifiber_site *page,
			 struct optifiber_site *out)
{
	struct optifiber_site copy;
	__u32 seq;

#include "reader_example.inc"
	*out = copy;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Every field a function of s: a copy mixing two writes is detectable. */
static void fill(struct optifiber_site *p, __u64 s)
{
	__u64 *w = (__u64 *)&p->sample_seq;
	__u64 *end = (__u64 *)(p->__reserved + sizeof(p->__reserved));

	for (; w < end; w++)
		*w = s * 0x9e3779b97f4a7c15ULL + (__u64)(w - (__u64 *)p);
	p->sample_seq = s;
}

/* The first word of @p that was not written by fill(p, p->sample_seq). */
static int torn_word(const struct optifiber_site *p)
{
	struct optifiber_site want;

	fill(&want, p->sample_seq);
	return memcmp(&want.sample_seq, &p->sample_seq,
		      sizeof(want) - offsetof(struct optifiber_site, sample_seq));
}

static struct optifiber_site page __attribute__((aligned(4096)));
static int reader_done;
static struct optifiber_site got;

static void *read_once_thread(void *arg)
{
	example_read(&page, &got);
	__atomic_store_n(&reader_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void waits_for_writer(void)
{
	pthread_t th;
	int early;

	fill(&page, 1);
	page.seq = 0;
	ofsim_seq_write_begin(&page.seq);	/* mid-update: seq odd */
	fill(&page, 2);
	pthread_create(&th, NULL, read_once_thread, NULL);
	sleep_ms(100);
	early = __atomic_load_n(&reader_done, __ATOMIC_ACQUIRE);
	ofsim_seq_write_end(&page.seq);
	pthread_join(th, NULL);
	if (early)
		of_test_result("reader_example_waits_for_writer",
			       "the example returned while seq was odd");
	else if (got.seq != 2 || got.sample_seq != 2 || torn_word(&got))
		of_test_result("reader_example_waits_for_writer",
			       "the copy is not the finished write");
	else
		of_test_result("reader_example_waits_for_writer", NULL);
}

static int stop;

static void *writer_thread(void *arg)
{
	__u64 s = 10;
	double t;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		ofsim_seq_write_begin(&page.seq);
		fill(&page, ++s);
		ofsim_seq_write_end(&page.seq);
		/* a gap between writes, as between ticks: readers get through */
		for (t = now_s() + 20e-6; now_s() < t;)
			;
	}
	return (void *)(long)s;
}

static void no_torn_copy(void)
{
	unsigned long reads = 0, torn = 0, naive_torn = 0, distinct = 0;
	struct optifiber_site copy;
	__u64 last = 0;
	double start, end;
	pthread_t th;
	char why[160];

	page.seq = 0;
	fill(&page, 10);
	pthread_create(&th, NULL, writer_thread, NULL);
	/* at least 0.5 s and 10 samples seen; at most 10 s on a loaded machine */
	start = now_s();
	end = start + 10;
	while (now_s() < end && (now_s() < start + 0.5 || distinct < 10)) {
		example_read(&page, &copy);
		reads++;
		if (copy.seq & 1 || torn_word(&copy))
			torn++;
		if (copy.sample_seq != last)
			distinct++;
		last = copy.sample_seq;
		/* the same copy without the protocol: shows the writer races */
		memcpy(&copy, (const void *)&page, sizeof(copy));
		naive_torn += torn_word(&copy) != 0;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	printf("INFO reader_example: %lu reads, %lu distinct samples; plain memcpy torn %lu times\n",
	       reads, distinct, naive_torn);
	if (torn) {
		snprintf(why, sizeof(why), "%lu of %lu copies mix two writes", torn, reads);
		of_test_result("reader_example_no_torn_copy", why);
	} else if (distinct < 10) {
		snprintf(why, sizeof(why), "only %lu distinct samples: the writer did not run", distinct);
		of_test_result("reader_example_no_torn_copy", why);
	} else {
		of_test_result("reader_example_no_torn_copy", NULL);
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	waits_for_writer();
	no_torn_copy();
	return of_test_summary();
}
