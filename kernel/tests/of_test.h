/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The harness of the host C tests (make -C kernel sim-test): one line
 * "PASS name" or "FAIL name: why" per case and a closing
 * "N passed, N failed", the lines scripts/test-all.mjs counts.
 *
 * A case is a function that returns 1 when it passes; CHECK() fills in the
 * reason and returns 0 from it at the first condition that does not hold.
 */
#ifndef _OF_TEST_H
#define _OF_TEST_H

#include <stdio.h>

static int passed, failed;
static char why[1024];

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		snprintf(why, sizeof(why), __VA_ARGS__);		\
		return 0;						\
	}								\
} while (0)

/* Report one case: @reason NULL when it passed. */
static inline void of_test_result(const char *name, const char *reason)
{
	if (reason) {
		printf("FAIL %s: %s\n", name, reason);
		failed++;
	} else {
		printf("PASS %s\n", name);
		passed++;
	}
	/* a crash in a later case must not swallow the lines already printed */
	fflush(stdout);
}

static inline void run(const char *name, int (*fn)(void))
{
	why[0] = '\0';
	of_test_result(name, fn() ? NULL : why);
}

/* The closing line; returns main()'s exit status. */
static inline int of_test_summary(void)
{
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#endif /* _OF_TEST_H */
