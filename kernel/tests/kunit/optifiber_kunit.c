// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the simulation core as the kernel builds it: the
 * cmd_control parser and apply, and the page writer.  Built only against
 * a kernel with CONFIG_KUNIT (the debug kernel of kernel/tests/debug/;
 * Debian's kernels have none); the suites run when the module is loaded
 * and report in KTAP on the console.
 *
 * The core's .c files are included, so static helpers are testable too.
 */
#include <kunit/test.h>
#include <linux/module.h>

#include "../../sim/ofsim.c"
#include "../../sim/ofsim_cmd.c"

#define NSITES 2

static const char *const test_names[NSITES] = { "Dallas", "Stone" };

/* A simulation of two sites in test-managed memory, not yet ticked. */
static struct ofsim *test_sim(struct kunit *test)
{
	struct ofsim_params p = {
		.seed = 7, .sim_start_s = 1767225600, .tick_ms = 1000,
		.time_scale = 60, .fault_rate = 0, .nsites = NSITES,
	};
	struct ofsim *sim = kunit_kzalloc(test, sizeof(*sim), GFP_KERNEL);
	void *pages = kunit_kzalloc(test, (1 + NSITES) * OPTIFIBER_PAGE_SIZE, GFP_KERNEL);
	void *sites = kunit_kzalloc(test, ofsim_sites_size(NSITES), GFP_KERNEL);
	const char *err = NULL;

	KUNIT_ASSERT_NOT_NULL(test, sim);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	KUNIT_ASSERT_NOT_NULL(test, sites);
	KUNIT_ASSERT_EQ(test, ofsim_init(sim, &p, test_names, sites, pages,
					 "kunit", 1, &err), 0);
	return sim;
}

/* ------------------------------------------------------------- parser */

static void parse_valid_batch(struct kunit *test)
{
	static const char buf[] = "site=Dallas cmd_add=2\n"
				  "site=Stone fault=osnr_degrade duration=60\n"
				  "site=Stone fault=clear\n";
	struct ofsim *sim = test_sim(test);
	struct ofsim_cmd cmds[4];
	const char *err = NULL;
	int line = 0;

	KUNIT_ASSERT_EQ(test, ofsim_cmd_parse(sim, buf, sizeof(buf) - 1, cmds, 4,
					      &err, &line), 3);
	KUNIT_EXPECT_EQ(test, cmds[0].site, 0u);
	KUNIT_EXPECT_EQ(test, cmds[0].op, (u32)OFSIM_CMD_ADD_MODULES);
	KUNIT_EXPECT_EQ(test, cmds[0].count, 2u);
	KUNIT_EXPECT_EQ(test, cmds[1].site, 1u);
	KUNIT_EXPECT_EQ(test, cmds[1].op, (u32)OFSIM_CMD_FAULT);
	KUNIT_EXPECT_EQ(test, cmds[1].fault, (u32)OPTIFIBER_FAULT_OSNR_DEGRADE);
	KUNIT_EXPECT_EQ(test, cmds[1].duration_s, 60u);
	KUNIT_EXPECT_EQ(test, cmds[2].op, (u32)OFSIM_CMD_FAULT_CLEAR);
}

struct bad_line {
	const char *buf;
	int line;	/* the 1-based line the parser must blame */
};

static void parse_rejects_with_line(struct kunit *test)
{
	static const struct bad_line bad[] = {
		{ "site=Dallas frobnicate=1\n", 1 },
		{ "site=Nowhere cmd_add=1\n", 1 },
		{ "site=Dallas cmd_add=1", 1 },
		{ "site=Dallas cmd_add=01\n", 1 },
		{ "site=Dallas cmd_add=65\n", 1 },
		{ "site=Dallas  cmd_add=1\n", 1 },
		{ "site=Dallas cmd_add=1 fault=clear\n", 1 },
		{ "site=Dallas cmd_add=1\nsite=Dallas bogus=1\n", 2 },
		{ "site=Dallas cmd_add=1\r\n", 1 },
		{ "\n", 1 },
	};
	struct ofsim *sim = test_sim(test);
	struct ofsim_cmd cmds[4];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *err = NULL;
		int line = 0;

		KUNIT_EXPECT_EQ_MSG(test, ofsim_cmd_parse(sim, bad[i].buf, strlen(bad[i].buf),
							  cmds, 4, &err, &line),
				    -EINVAL, "case %u: '%s'", i, bad[i].buf);
		KUNIT_EXPECT_NOT_NULL_MSG(test, err, "case %u has no message", i);
		KUNIT_EXPECT_EQ_MSG(test, line, bad[i].line, "case %u", i);
	}
}

static void apply_all_or_nothing(struct kunit *test)
{
	static const char buf[] = "site=Dallas cmd_add=1\nsite=Dallas cmd_remove=64\n";
	struct ofsim *sim = test_sim(test);
	struct ofsim_cmd cmds[2];
	const char *err = NULL;
	u32 before;
	int line = 0;

	KUNIT_ASSERT_EQ(test, ofsim_cmd_parse(sim, buf, sizeof(buf) - 1, cmds, 2,
					      &err, &line), 2);
	before = sim->sites[0].modules;
	KUNIT_EXPECT_EQ(test, ofsim_cmd_apply(sim, cmds, 2, &err), -ERANGE);
	KUNIT_EXPECT_EQ(test, sim->sites[0].modules, before);
	KUNIT_EXPECT_EQ(test, ofsim_cmd_apply(sim, cmds, 1, &err), 0);
	KUNIT_EXPECT_EQ(test, sim->sites[0].modules, before + 1);
}

static struct kunit_case parser_cases[] = {
	KUNIT_CASE(parse_valid_batch),
	KUNIT_CASE(parse_rejects_with_line),
	KUNIT_CASE(apply_all_or_nothing),
	{}
};

static struct kunit_suite parser_suite = {
	.name = "optifiber_parser",
	.test_cases = parser_cases,
};

/* -------------------------------------------------------- page writer */

static void seq_helpers_odd_then_even(struct kunit *test)
{
	u32 seq = 4;

	ofsim_seq_write_begin(&seq);
	KUNIT_EXPECT_EQ(test, seq, 5u);
	ofsim_seq_write_end(&seq);
	KUNIT_EXPECT_EQ(test, seq, 6u);
}

static void tick_publishes_pages(struct kunit *test)
{
	struct ofsim *sim = test_sim(test);
	const struct optifiber_site *pg;
	u32 i;

	KUNIT_EXPECT_EQ(test, sim->dir->seq, 0u);
	ofsim_tick(sim, 123456789);
	ofsim_tick(sim, 223456789);
	KUNIT_EXPECT_EQ(test, sim->dir->seq, 4u);
	KUNIT_EXPECT_EQ(test, sim->dir->tick, 2ull);
	KUNIT_EXPECT_EQ(test, sim->dir->update_time_ns, 223456789ull);
	KUNIT_EXPECT_EQ(test, sim->dir->sim_time_s, 1767225600ull + 2 * 60);
	for (i = 0; i < NSITES; i++) {
		pg = (const struct optifiber_site *)(sim->pages + (1 + i) * OPTIFIBER_PAGE_SIZE);
		KUNIT_EXPECT_EQ(test, pg->seq, 4u);
		KUNIT_EXPECT_EQ(test, pg->magic, OPTIFIBER_SITE_MAGIC);
		KUNIT_EXPECT_STREQ(test, pg->name, test_names[i]);
		KUNIT_EXPECT_EQ(test, pg->sample_seq, 2ull);
		KUNIT_EXPECT_TRUE(test, pg->flags & OPTIFIBER_SITE_F_VALID);
		KUNIT_EXPECT_EQ(test, pg->capacity_bps,
				pg->cmd_modules * pg->module_capacity_bps);
		KUNIT_EXPECT_LE(test, pg->throughput_bps, pg->capacity_bps);
	}
}

/* q = a * b / c exactly: q * c <= a * b < (q + 1) * c, in 128 bits. */
static void mul_div_long_exact(struct kunit *test)
{
	u64 rnd = 12345, a, b, c, q;
	int i;

	KUNIT_EXPECT_EQ(test, ofsim_mul_div_long(~0ULL, ~0ULL, ~0ULL), ~0ULL);
	for (i = 0; i < 20000; i++) {
		rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
		a = rnd;
		rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
		b = rnd >> (i % 64);
		rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
		c = rnd | 1;
		if ((u64)(((__uint128_t)a * b) >> 64) >= c)
			continue;	/* quotient >= 2^64: outside the contract */
		q = ofsim_mul_div_long(a, b, c);
		KUNIT_EXPECT_TRUE(test, (__uint128_t)q * c <= (__uint128_t)a * b);
		KUNIT_EXPECT_TRUE(test, (__uint128_t)(q + 1) * c > (__uint128_t)a * b);
		KUNIT_EXPECT_EQ(test, q, ofsim_mul_div(a, b, c));
	}
}

static struct kunit_case writer_cases[] = {
	KUNIT_CASE(seq_helpers_odd_then_even),
	KUNIT_CASE(tick_publishes_pages),
	KUNIT_CASE(mul_div_long_exact),
	{}
};

static struct kunit_suite writer_suite = {
	.name = "optifiber_page_writer",
	.test_cases = writer_cases,
};

kunit_test_suites(&parser_suite, &writer_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of the OptiFiber simulation core");
