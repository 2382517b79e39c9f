// SPDX-License-Identifier: GPL-2.0
/*
 * In-VM test of optifiber.ko, run by the initramfs /init under QEMU
 * (see kernel/tests/run-qemu.mjs).  Built static:
 *
 *   gcc -static -O2 -Wall -Werror -pthread -I kernel/include/uapi \
 *       -o optifiber_vmtest kernel/tests/vm/optifiber_vmtest.c
 *
 *   optifiber_vmtest all KO              every functional case
 *   optifiber_vmtest parity KO PARAMS N OUT  load, wait for tick N, copy pages
 *   optifiber_vmtest load KO [PARAMS]    load only (for the reader check)
 *   optifiber_vmtest dmesg PHASE         dmesg_clean_after_PHASE: no oops/WARN/BUG
 *   optifiber_vmtest dump                print the pages as JSON
 *   optifiber_vmtest iface KO VETH_KO OFNIC_KO  the ifaces= cases
 *   optifiber_vmtest veth-add A B | veth-del A | link NAME up|down
 *                                        network set-up for the exporter check
 *
 * Each case prints exactly one line "RESULT PASS <case>" or
 * "RESULT FAIL <case>: <reason>"; "INFO ..." lines carry measurements.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/optifiber.h>

#define INFO_PATH	"/proc/optifiber/myinfo"
#define CMD_PATH	"/proc/optifiber/cmd_control"
#define PAGE		OPTIFIBER_PAGE_SIZE

static const char *ko_path;
static char failmsg[512];
static int nfail;

#define FAIL(...) do {							\
	snprintf(failmsg, sizeof(failmsg), __VA_ARGS__);		\
	return -1;							\
} while (0)
#define FAILMSG(...) snprintf(failmsg, sizeof(failmsg), __VA_ARGS__)
#define CHECK(cond, ...) do { if (!(cond)) FAIL(__VA_ARGS__); } while (0)

static void report(const char *name, int rc)
{
	if (rc == 0) {
		printf("RESULT PASS %s\n", name);
	} else {
		nfail++;
		printf("RESULT FAIL %s: %s\n", name, failmsg);
	}
	fflush(stdout);
}

#define RUN(fn) report(#fn, fn())

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ module */

/* finit_module of a .ko file; 0 or -errno (-EEXIST: already loaded) */
static int insmod(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc, err;

	if (fd < 0)
		return -errno;
	rc = syscall(SYS_finit_module, fd, params, 0);
	err = errno;
	close(fd);
	return rc ? -err : 0;
}

static int load_module(const char *params)
{
	return insmod(ko_path, params);
}

static int unload_module(void)
{
	return syscall(SYS_delete_module, "optifiber", O_NONBLOCK) ? -errno : 0;
}

static int proc_exists(void)
{
	struct stat st;

	return stat("/proc/optifiber", &st) == 0;
}

/*
 * The kernel log since the last kmsg_mark(), for checking that a refusal
 * was logged for the right reason.  /dev/kmsg gives one record per read().
 */
static int kmsg_fd = -1;

static void kmsg_mark(void)
{
	if (kmsg_fd < 0)
		kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
}

/* New log text since kmsg_mark() (messages only), in @buf. */
static const char *kmsg_since_mark(char *buf, size_t len)
{
	size_t used = 0;
	ssize_t n;
	char *msg;

	buf[0] = 0;
	if (kmsg_fd < 0)
		return buf;
	for (;;) {
		char rec[1024];

		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: skip */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');	/* "prio,seq,ts,flags;message\n" */
		msg = msg ? msg + 1 : rec;
		used += snprintf(buf + used, len - used, "%s", msg);
		if (used >= len - 1)
			break;
	}
	return buf;
}

/* -------------------------------------------------------------- pages */

struct mapping {
	int fd;
	void *base;
	size_t len;
	uint32_t nsites;
};

static volatile struct optifiber_site *SITEP(struct mapping *m, uint32_t i)
{
	return (volatile struct optifiber_site *)((char *)m->base + (size_t)(i + 1) * PAGE);
}

static int map_pages(struct mapping *m)
{
	struct optifiber_dir *d;

	memset(m, 0, sizeof(*m));
	m->fd = open(INFO_PATH, O_RDONLY | O_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	d = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, m->fd, 0);
	if (d == MAP_FAILED)
		return -errno;
	m->nsites = d->site_count;
	munmap(d, PAGE);
	m->len = (size_t)(m->nsites + 1) * PAGE;
	m->base = mmap(NULL, m->len, PROT_READ, MAP_SHARED, m->fd, 0);
	if (m->base == MAP_FAILED)
		return -errno;
	return 0;
}

static void unmap_pages(struct mapping *m)
{
	if (m->base && m->base != MAP_FAILED)
		munmap(m->base, m->len);
	if (m->fd > 0)
		close(m->fd);
	memset(m, 0, sizeof(*m));
}

/* A consistent copy of @len bytes of a page: the seqcount reader of optifiber.h over *@seqp. */
static void read_page(const volatile void *page, const volatile __u32 *seqp, void *out, size_t len)
{
	uint32_t seq;

	for (;;) {
		seq = *seqp;
		if (seq & 1)
			continue;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		memcpy(out, (const void *)page, len);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (*seqp == seq)
			return;
	}
}

static void read_dir(struct mapping *m, struct optifiber_dir *out)
{
	volatile struct optifiber_dir *d = m->base;

	read_page(d, &d->seq, out, sizeof(*out));
}

static void read_site(struct mapping *m, uint32_t i, struct optifiber_site *out)
{
	volatile struct optifiber_site *s = SITEP(m, i);

	read_page(s, &s->seq, out, sizeof(*out));
}

static uint64_t dir_tick(struct mapping *m)
{
	struct optifiber_dir d;

	read_dir(m, &d);
	return d.tick;
}

/* Wait until dir.tick >= target; 0 or -1 on timeout. */
static int wait_tick(struct mapping *m, uint64_t target, unsigned int timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;

	while (dir_tick(m) < target) {
		if (now_ms() > end)
			return -1;
		sleep_ms(2);
	}
	return 0;
}

static int find_site(struct mapping *m, const char *name)
{
	uint32_t i;

	for (i = 0; i < m->nsites; i++)
		if (!strncmp((const char *)SITEP(m, i)->name, name, OPTIFIBER_SITE_NAME_LEN))
			return i;
	return -1;
}

/* ------------------------------------------------------------ commands */

/* 0 on a full write, else the errno */
static int cmd_write(const char *buf, size_t len)
{
	int fd = open(CMD_PATH, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return errno;
	n = write(fd, buf, len);
	err = errno;
	close(fd);
	if (n < 0)
		return err;
	return (size_t)n == len ? 0 : EIO;
}

static int cmd(const char *line)
{
	return cmd_write(line, strlen(line));
}

static char *read_file(const char *path, size_t *lenp)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap + 1);
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
	}
	close(fd);
	buf[len] = 0;
	if (lenp)
		*lenp = len;
	return buf;
}

/* ------------------------------------------------------------- state */

static struct mapping M;	/* the main module instance */
static const char *const default_names[] = { "MicrosoftDC", "Dallas", "Dobbins", "Stone" };

/* ================================================================ cases */

/* Module parameters a load must refuse, and the reason it must log. */
struct refused {
	const char *params;
	const char *why;
};

/* Each refusal: EINVAL, nothing left in /proc, and the reason in the log. */
static int check_refused(const struct refused *bad, unsigned int n)
{
	static char log[8192];
	unsigned int i;
	int rc;

	for (i = 0; i < n; i++) {
		kmsg_mark();
		rc = load_module(bad[i].params);
		if (rc == 0)
			unload_module();
		CHECK(rc == -EINVAL, "insmod %s: got %s, want EINVAL", bad[i].params,
		      rc ? strerror(-rc) : "loaded");
		CHECK(!proc_exists(), "/proc/optifiber left behind by %s", bad[i].params);
		kmsg_since_mark(log, sizeof(log));
		CHECK(strstr(log, bad[i].why), "insmod %s refused, but the log lacks '%s': '%.200s'",
		      bad[i].params, bad[i].why, log);
	}
	return 0;
}

/* Each refusal must log why: the pr_err (or the kernel's parameter parser). */
static int invalid_params(void)
{
	static const struct refused bad[] = {
		{ "tick_ms=5", "tick_ms=5 out of range 10..60000" },
		{ "tick_ms=60001", "tick_ms=60001 out of range" },
		{ "tick_ms=abc", "invalid for parameter `tick_ms'" },
		{ "time_scale=0", "time_scale=0 out of range 1..3600" },
		{ "time_scale=3601", "time_scale=3601 out of range" },
		{ "nsites=16385", "nsites=16385 out of range 0..16384" },
		{ "sites=", "sites is empty" },
		{ "sites=A,A", "duplicate site name" },
		{ "sites=A,,B", "site name must be 1..31 chars" },
		{ "sites=Bad!Name", "site name must be 1..31 chars" },
		{ "sites=,", "site name must be 1..31 chars" },
		{ "sites=ThisSiteNameIsFarTooLongToFitIn31Bytes", "site name must be 1..31 chars" },
	};
	return check_refused(bad, sizeof(bad) / sizeof(bad[0]));
}

/*
 * The VM must run with the checks the other cases rely on: init_on_free=1
 * (rmmod_while_mapped), and the kernel must have honoured it.
 */
static int boot_checks_active(void)
{
	char *cmdline = read_file("/proc/cmdline", NULL);
	static char log[1 << 16];
	int n, ok;

	CHECK(cmdline, "read /proc/cmdline: %s", strerror(errno));
	ok = strstr(cmdline, "init_on_free=1") != NULL;
	free(cmdline);
	CHECK(ok, "init_on_free=1 missing from /proc/cmdline");
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, sizeof(log) - 1);
	CHECK(n > 0, "klogctl: %s", strerror(errno));
	log[n] = 0;
	CHECK(strstr(log, "heap free:on"), "the kernel did not report 'mem auto-init: ... heap free:on'");
	return 0;
}

static int load(void)
{
	int rc = load_module("tick_ms=20 seed=42");

	CHECK(rc == 0, "insmod tick_ms=20 seed=42: %s", strerror(-rc));
	rc = map_pages(&M);
	CHECK(rc == 0, "map %s: %s", INFO_PATH, strerror(-rc));
	return 0;
}

static int abi_directory(void)
{
	struct optifiber_dir d;

	CHECK(M.base, "not mapped");
	read_dir(&M, &d);
	CHECK(d.magic == OPTIFIBER_MAGIC, "magic 0x%08x", d.magic);
	CHECK(d.abi_major == OPTIFIBER_ABI_MAJOR, "abi_major %u", d.abi_major);
	CHECK(d.page_size == PAGE, "page_size %u", d.page_size);
	CHECK(d.site_count == 4, "site_count %u, want 4", d.site_count);
	CHECK(d.tick_interval_ms == 20, "tick_interval_ms %u", d.tick_interval_ms);
	CHECK(d.seed == 42, "seed %llu", (unsigned long long)d.seed);
	CHECK(d.flags & OPTIFIBER_DIR_F_LIVE, "flags 0x%x lack LIVE", d.flags);
	CHECK(d.flags & OPTIFIBER_DIR_F_SIMULATED, "flags 0x%x lack SIMULATED", d.flags);
	CHECK(!strcmp(d.host, "kernel"), "host '%.16s'", d.host);
	CHECK(d.generation != 0, "generation 0");
	return 0;
}

static int site_names(void)
{
	struct optifiber_site s;
	uint32_t i;

	CHECK(M.base, "not mapped");
	for (i = 0; i < 4; i++) {
		read_site(&M, i, &s);
		CHECK(s.magic == OPTIFIBER_SITE_MAGIC, "site %u magic 0x%08x", i, s.magic);
		CHECK(s.abi_major == OPTIFIBER_ABI_MAJOR, "site %u abi %u", i, s.abi_major);
		CHECK(s.site_index == i, "site %u index %u", i, s.site_index);
		CHECK(!strcmp(s.name, default_names[i]), "site %u name '%.32s', want %s",
		      i, s.name, default_names[i]);
	}
	return 0;
}

static int summary_lists_sites(void)
{
	char *txt = read_file(INFO_PATH, NULL), *line;
	int i, found;

	CHECK(txt, "read %s: %s", INFO_PATH, strerror(errno));
	CHECK(strstr(txt, "site_count") && strstr(txt, "tick"), "no directory fields");
	for (i = 0; i < 4; i++) {
		found = 0;
		for (line = txt; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
			if (!strncmp(line, default_names[i], strlen(default_names[i])) &&
			    line[strlen(default_names[i])] == ' ')
				found = 1;
		if (!found) {
			free(txt);
			FAIL("no line for site %s", default_names[i]);
		}
	}
	for (line = strtok(txt, "\n"); line; line = strtok(NULL, "\n"))
		printf("INFO summary| %s\n", line);
	free(txt);
	return 0;
}

static int mmap_read_advances(void)
{
	struct optifiber_dir d0, d1;
	struct optifiber_site s0, s1;
	uint32_t i;

	read_dir(&M, &d0);
	read_site(&M, 3, &s0);
	CHECK(wait_tick(&M, d0.tick + 3, 3000) == 0, "tick stuck at %llu",
	      (unsigned long long)d0.tick);
	read_dir(&M, &d1);
	read_site(&M, 3, &s1);
	CHECK(d1.seq > d0.seq && !(d1.seq & 1), "dir seq %u -> %u", d0.seq, d1.seq);
	CHECK(s1.sample_seq > s0.sample_seq, "sample_seq %llu -> %llu",
	      (unsigned long long)s0.sample_seq, (unsigned long long)s1.sample_seq);
	CHECK(s1.seq > s0.seq, "site seq %u -> %u", s0.seq, s1.seq);
	CHECK(d1.update_time_ns > d0.update_time_ns, "update_time_ns not advancing");
	CHECK(d1.sim_time_s > d0.sim_time_s, "sim_time_s not advancing");
	/* the recent ring (ABI minor 2): the sample read before is still there, byte for byte */
	CHECK(s1.sample_seq - s0.sample_seq < OPTIFIBER_RECENT &&
	      !memcmp(s1.recent[s0.sample_seq % OPTIFIBER_RECENT],
		      (const __u8 *)&s0 + OPTIFIBER_SAMPLE_OFFSET, OPTIFIBER_SAMPLE_LEN) &&
	      !memcmp(s1.recent[s1.sample_seq % OPTIFIBER_RECENT],
		      (const __u8 *)&s1 + OPTIFIBER_SAMPLE_OFFSET, OPTIFIBER_SAMPLE_LEN),
	      "recent ring: samples %llu and %llu not kept as the page showed them",
	      (unsigned long long)s0.sample_seq, (unsigned long long)s1.sample_seq);
	for (i = 0; i < 4; i++) {
		read_site(&M, i, &s1);
		CHECK(s1.flags & OPTIFIBER_SITE_F_VALID, "site %u not VALID", i);
		CHECK(s1.capacity_bps == s1.cmd_modules * s1.module_capacity_bps,
		      "site %u capacity %llu != %u * %llu", i,
		      (unsigned long long)s1.capacity_bps, s1.cmd_modules,
		      (unsigned long long)s1.module_capacity_bps);
	}
	return 0;
}

/*
 * The directory seqcount covers a whole tick: whenever it holds across a read
 * of every site page, every site must show the same sample (sample_seq ==
 * dir.tick, as the first tick runs at load).
 */
static int seqcount_snapshot_consistent(void)
{
	uint64_t end = now_ms() + 1000, snaps = 0, torn = 0;
	struct optifiber_dir d;
	uint64_t ss[4];
	uint32_t seq, i;

	while (now_ms() < end) {
		seq = __atomic_load_n(&((struct optifiber_dir *)M.base)->seq, __ATOMIC_ACQUIRE);
		if (seq & 1)
			continue;
		memcpy(&d, M.base, sizeof(d));
		for (i = 0; i < 4; i++)
			ss[i] = SITEP(&M, i)->sample_seq;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&((struct optifiber_dir *)M.base)->seq, __ATOMIC_RELAXED) != seq) {
			torn++;
			continue;
		}
		snaps++;
		for (i = 0; i < 4; i++)
			CHECK(ss[i] == d.tick, "dir tick %llu but site %u sample_seq %llu under seq %u",
			      (unsigned long long)d.tick, i, (unsigned long long)ss[i], seq);
	}
	CHECK(snaps > 100, "only %llu consistent snapshots", (unsigned long long)snaps);
	printf("INFO seqcount: %llu consistent snapshots, %llu retried\n",
	       (unsigned long long)snaps, (unsigned long long)torn);
	return 0;
}

static int mmap_write_refused(void)
{
	void *p;

	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, M.fd, 0);
	CHECK(p == MAP_FAILED, "PROT_WRITE MAP_SHARED mapping succeeded");
	/* the VFS refuses first: the fd is not open for writing */
	CHECK(errno == EACCES, "MAP_SHARED errno %s, want EACCES", strerror(errno));
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, M.fd, 0);
	CHECK(p == MAP_FAILED, "PROT_WRITE MAP_PRIVATE mapping succeeded");
	CHECK(errno == EPERM, "MAP_PRIVATE errno %s, want EPERM", strerror(errno));
	return 0;
}

static int mprotect_write_refused(void)
{
	void *p, *q;
	int rc1, rc2, e1, e2;

	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, M.fd, 0);
	CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
	rc1 = mprotect(p, PAGE, PROT_READ | PROT_WRITE);
	e1 = errno;
	munmap(p, PAGE);
	q = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, M.fd, 0);
	CHECK(q != MAP_FAILED, "mmap private: %s", strerror(errno));
	rc2 = mprotect(q, PAGE, PROT_READ | PROT_WRITE);
	e2 = errno;
	munmap(q, PAGE);
	CHECK(rc1 == -1 && e1 == EACCES, "mprotect shared: rc %d %s", rc1, strerror(e1));
	CHECK(rc2 == -1 && e2 == EACCES, "mprotect private: rc %d %s", rc2, strerror(e2));
	return 0;
}

static int rdwr_write_refused(void)
{
	int fd = open(INFO_PATH, O_RDWR | O_CLOEXEC);
	void *p;
	int e;

	/* as root the open succeeds (no write op is needed to open): the module's own check must refuse */
	CHECK(fd >= 0, "cannot test: O_RDWR open refused (%s)", strerror(errno));
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	e = errno;
	close(fd);
	CHECK(p == MAP_FAILED, "O_RDWR PROT_WRITE MAP_SHARED succeeded");
	CHECK(e == EPERM, "errno %s, want EPERM", strerror(e));
	return 0;
}

static int mmap_bounds(void)
{
	struct optifiber_dir *d;
	void *p;

	p = mmap(NULL, M.len + PAGE, PROT_READ, MAP_SHARED, M.fd, 0);
	CHECK(p == MAP_FAILED, "mapping one page too many succeeded");
	CHECK(errno == EINVAL, "too long: %s", strerror(errno));
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, M.fd, M.len);
	CHECK(p == MAP_FAILED, "mapping at the end succeeded");
	CHECK(errno == EINVAL, "offset at end: %s", strerror(errno));
	p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, M.fd, M.len - PAGE);
	CHECK(p == MAP_FAILED, "mapping across the end succeeded");
	CHECK(errno == EINVAL, "across the end: %s", strerror(errno));
	/* a sub-range: site 2's page alone */
	d = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, M.fd, 3 * PAGE);
	CHECK(d != MAP_FAILED, "mapping page 3: %s", strerror(errno));
	CHECK(((struct optifiber_site *)d)->site_index == 2, "page 3 is not site 2");
	munmap(d, PAGE);
	return 0;
}

/* Wait until site i satisfies pred, at most ticks ticks. */
static int wait_site(int i, int (*pred)(const struct optifiber_site *, const void *),
		     const void *arg, unsigned int ticks, struct optifiber_site *out)
{
	uint64_t t = dir_tick(&M);

	for (;;) {
		read_site(&M, i, out);
		if (pred(out, arg))
			return 0;
		if (dir_tick(&M) > t + ticks)
			return -1;
		sleep_ms(5);
	}
}

static int pred_modules(const struct optifiber_site *s, const void *arg)
{
	return s->cmd_modules == *(const uint32_t *)arg;
}

static int pred_fault(const struct optifiber_site *s, const void *arg)
{
	return s->fault == *(const uint32_t *)arg;
}

static int cmd_add_raises_capacity(void)
{
	struct optifiber_site s0, s1;
	int i = find_site(&M, "Dallas"), rc;
	uint32_t want;

	CHECK(i >= 0, "no site Dallas");
	read_site(&M, i, &s0);
	CHECK(s0.cmd_modules < s0.cmd_modules_max, "Dallas already full (%u/%u)",
	      s0.cmd_modules, s0.cmd_modules_max);
	rc = cmd("site=Dallas cmd_add=1\n");
	CHECK(rc == 0, "write: %s", strerror(rc));
	want = s0.cmd_modules + 1;
	CHECK(wait_site(i, pred_modules, &want, 5, &s1) == 0,
	      "cmd_modules %u, want %u after 5 ticks", s1.cmd_modules, want);
	CHECK(s1.capacity_bps == s0.capacity_bps + s0.module_capacity_bps,
	      "capacity %llu -> %llu", (unsigned long long)s0.capacity_bps,
	      (unsigned long long)s1.capacity_bps);
	rc = cmd("site=Dallas cmd_remove=1\n");
	CHECK(rc == 0, "cmd_remove: %s", strerror(rc));
	want = s0.cmd_modules;
	CHECK(wait_site(i, pred_modules, &want, 5, &s1) == 0, "cmd_remove not applied");
	return 0;
}

static int osnr_before_fault;

static int fault_osnr_degrade(void)
{
	struct optifiber_site s0, s1;
	int i = find_site(&M, "Stone"), rc;
	uint32_t want = OPTIFIBER_FAULT_OSNR_DEGRADE;

	CHECK(i >= 0, "no site Stone");
	read_site(&M, i, &s0);
	CHECK(s0.fault == OPTIFIBER_FAULT_NONE, "Stone already faulted (%u)", s0.fault);
	rc = cmd("site=Stone fault=osnr_degrade duration=86400\n");
	CHECK(rc == 0, "write: %s", strerror(rc));
	CHECK(wait_site(i, pred_fault, &want, 5, &s1) == 0, "fault %u, want %u", s1.fault, want);
	/* the core ramps OSNR down by 6..8 dB over 60 simulated s: 60 ticks here */
	for (rc = 0; rc < 200 && s1.osnr_cdb >= s0.osnr_cdb - 500; rc++) {
		wait_tick(&M, dir_tick(&M) + 1, 1000);
		read_site(&M, i, &s1);
	}
	CHECK(s1.osnr_cdb < s0.osnr_cdb - 500, "OSNR %d -> %d cdB, want at least 5 dB lower",
	      s0.osnr_cdb, s1.osnr_cdb);
	CHECK(s1.fault == OPTIFIBER_FAULT_OSNR_DEGRADE, "fault ended early (%u)", s1.fault);
	CHECK(s1.fault_start_sim_s != 0, "fault_start_sim_s 0");
	CHECK(s1.faults_total >= 1, "faults_total 0");
	printf("INFO osnr_degrade: OSNR %d -> %d cdB after %d ticks\n", s0.osnr_cdb,
	       s1.osnr_cdb, rc);
	osnr_before_fault = s0.osnr_cdb;
	return 0;
}

static int fault_clear(void)
{
	struct optifiber_site s1;
	int i = find_site(&M, "Stone"), rc;
	uint32_t want = OPTIFIBER_FAULT_NONE;

	rc = cmd("site=Stone fault=clear\n");
	CHECK(rc == 0, "write: %s", strerror(rc));
	CHECK(wait_site(i, pred_fault, &want, 5, &s1) == 0, "fault still %u", s1.fault);
	/* and the optics recover: within 1 dB of the pre-fault OSNR */
	for (rc = 0; rc < 100 && s1.osnr_cdb < osnr_before_fault - 100; rc++) {
		wait_tick(&M, dir_tick(&M) + 1, 1000);
		read_site(&M, i, &s1);
	}
	CHECK(s1.osnr_cdb >= osnr_before_fault - 100, "OSNR %d cdB after clear, %d before the fault",
	      s1.osnr_cdb, osnr_before_fault);
	return 0;
}

struct bad_cmd {
	const char *what;
	const char *buf;
	size_t len;		/* 0: strlen(buf) */
	int err;
	const char *why;	/* the logged reason (first 10 only: rate-limited) */
};

#define B(what, s, e)	{ what, s, 0, e, NULL }
#define BW(what, s, e, why)	{ what, s, 0, e, why }

static int bad_commands(void)
{
	static char overlong[400], huge[8192], log[4096];
	static const char nul[] = "site=Dallas\0cmd_add=1\n";
	struct bad_cmd t[] = {
		BW("unknown key", "site=Dallas frobnicate=1\n", EINVAL, "line 1: unknown key"),
		BW("unknown site", "site=Nowhere cmd_add=1\n", EINVAL, "line 1: unknown site"),
		BW("site missing", "cmd_add=1\n", EINVAL, "line 1: missing site="),
		BW("no action", "site=Dallas\n", EINVAL, "line 1: no action"),
		BW("cmd_add=0", "site=Dallas cmd_add=0\n", EINVAL, "line 1: number out of range"),
		BW("cmd_add=65", "site=Dallas cmd_add=65\n", EINVAL, "line 1: number out of range"),
		BW("cmd_add=-1", "site=Dallas cmd_add=-1\n", EINVAL, "line 1: malformed number"),
		BW("cmd_add=abc", "site=Dallas cmd_add=abc\n", EINVAL, "line 1: malformed number"),
		BW("cmd_add empty", "site=Dallas cmd_add=\n", EINVAL, "line 1: empty value"),
		BW("cmd_add=1x", "site=Dallas cmd_add=1x\n", EINVAL, "line 1: malformed number"),
		B("cmd_add overflow", "site=Dallas cmd_add=18446744073709551617\n", EINVAL),
		B("no newline", "site=Dallas cmd_add=1", EINVAL),
		B("empty line", "\n", EINVAL),
		B("two actions", "site=Dallas cmd_add=1 cmd_remove=1\n", EINVAL),
		B("add and fault", "site=Dallas cmd_add=1 fault=clear\n", EINVAL),
		B("repeated key", "site=Dallas site=Dallas cmd_add=1\n", EINVAL),
		B("unknown fault", "site=Dallas fault=meteor\n", EINVAL),
		B("duration=0", "site=Dallas fault=osnr_degrade duration=0\n", EINVAL),
		B("duration too long", "site=Dallas fault=osnr_degrade duration=604801\n", EINVAL),
		B("CRLF", "site=Dallas cmd_add=1\r\n", EINVAL),
		B("good then bad line", "site=Dallas cmd_add=1\nsite=Dallas bogus=1\n", EINVAL),
		B("bad then good line", "site=Nowhere cmd_add=1\nsite=Dallas cmd_add=1\n", EINVAL),
		B("below one module", "site=Dallas cmd_remove=64\n", ERANGE),
		B("above cmd_modules_max", "site=Dallas cmd_add=64\n", ERANGE),
		B("batch ends out of range", "site=Dallas cmd_add=1\nsite=Dallas cmd_remove=64\n", ERANGE),
		{ "NUL byte", nul, sizeof(nul) - 1, EINVAL, NULL },
		{ "overlong line", overlong, sizeof(overlong), EINVAL, NULL },
		{ "huge write (8 KiB)", huge, sizeof(huge), EINVAL, NULL },
		{ "empty write", "", 0, EINVAL, NULL },
	};
	struct optifiber_site before[4], after;
	unsigned int i, n = sizeof(t) / sizeof(t[0]);
	int rc;

	memset(overlong, 'x', sizeof(overlong));
	memcpy(overlong, "site=Dallas cmd_add=1 ", 22);
	overlong[sizeof(overlong) - 1] = '\n';
	for (i = 0; i + 22 < sizeof(huge); i += 22)
		memcpy(huge + i, "site=Dallas cmd_add=1\n", 22);
	memset(huge + i, '\n', sizeof(huge) - i);

	for (i = 0; i < 4; i++)
		read_site(&M, i, &before[i]);
	for (i = 0; i < n; i++) {
		size_t len = t[i].len ? t[i].len : strlen(t[i].buf);

		kmsg_mark();
		rc = cmd_write(t[i].buf, len);
		CHECK(rc == t[i].err, "case '%s': got %s, want %s", t[i].what,
		      rc ? strerror(rc) : "success", strerror(t[i].err));
		/* refused for the right reason: the parser's message for that line */
		kmsg_since_mark(log, sizeof(log));
		CHECK(!t[i].why || strstr(log, t[i].why), "case '%s': log lacks '%s': '%.200s'",
		      t[i].what, t[i].why, log);
	}
	CHECK(wait_tick(&M, dir_tick(&M) + 2, 2000) == 0, "ticks stopped");
	for (i = 0; i < 4; i++) {
		read_site(&M, i, &after);
		CHECK(after.cmd_modules == before[i].cmd_modules &&
		      after.capacity_bps == before[i].capacity_bps,
		      "site %u modules %u -> %u", i, before[i].cmd_modules, after.cmd_modules);
		CHECK(after.fault == before[i].fault, "site %u fault %u -> %u", i,
		      before[i].fault, after.fault);
	}
	printf("INFO bad_commands: %u rejected writes checked\n", n);
	return 0;
}

/* capset(2) without libcap: drop one capability from the effective set */
static int drop_effective_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[cap / 32].effective &= ~(1U << (cap % 32));
	return syscall(SYS_capset, &h, d);
}

static int child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int cmd_unprivileged_refused(void)
{
	pid_t pid;
	int st;

	/* uid 65534: the 0200 mode refuses the open */
	pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(100);
		_exit(cmd("site=Dallas cmd_add=1\n"));
	}
	st = child_status(pid);
	CHECK(st == EACCES, "uid 65534: %s, want EACCES from the 0200 mode",
	      st == 0 ? "write succeeded" : st == 100 ? "setuid failed" : strerror(st));

	/* uid 0 without CAP_NET_ADMIN: DAC passes, the capability check refuses */
	pid = fork();
	if (pid == 0) {
		if (drop_effective_cap(CAP_NET_ADMIN))
			_exit(100);
		_exit(cmd("site=Dallas cmd_add=1\n"));
	}
	st = child_status(pid);
	CHECK(st == EPERM, "root without CAP_NET_ADMIN: %s",
	      st == 0 ? "write succeeded" : st == 100 ? "capset failed" : strerror(st));
	return 0;
}

#define CW_THREADS	4
#define CW_PROCS	2
#define CW_ITER		150

static const char *const cw_site[CW_THREADS + CW_PROCS] = {
	"MicrosoftDC", "Dallas", "Dobbins", "Stone", "Dallas", "Stone",
};

static void *cw_thread(void *arg)
{
	long k = (long)arg;
	char add[64], rem[64];
	int i, fd, errs = 0;

	snprintf(add, sizeof(add), "site=%s cmd_add=1\n", cw_site[k]);
	snprintf(rem, sizeof(rem), "site=%s cmd_remove=1\n", cw_site[k]);
	/* one fd per writer, shared by its writes: exercises the file offset too */
	fd = open(CMD_PATH, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return (void *)(long)CW_ITER;
	for (i = 0; i < CW_ITER; i++) {
		if (write(fd, add, strlen(add)) != (ssize_t)strlen(add))
			errs++;
		if (write(fd, rem, strlen(rem)) != (ssize_t)strlen(rem))
			errs++;
	}
	/* net effect: +1 module */
	if (write(fd, add, strlen(add)) != (ssize_t)strlen(add))
		errs++;
	close(fd);
	return (void *)(long)errs;
}

static int cmd_concurrent_writers(void)
{
	pthread_t th[CW_THREADS];
	pid_t pid[CW_PROCS];
	struct optifiber_site s0[4], s1;
	uint32_t expect[4], i;
	long errs = 0, k;
	void *r;
	uint64_t t0 = now_ms();

	for (i = 0; i < 4; i++) {
		read_site(&M, i, &s0[i]);
		expect[i] = s0[i].cmd_modules;
	}
	for (k = 0; k < CW_THREADS + CW_PROCS; k++)
		expect[find_site(&M, cw_site[k])] += 1;
	for (i = 0; i < 4; i++)
		CHECK(expect[i] + 1 <= s0[i].cmd_modules_max,
		      "site %u: %u modules leave no room for the test", i, s0[i].cmd_modules);

	for (k = 0; k < CW_PROCS; k++) {
		pid[k] = fork();
		if (pid[k] == 0)
			_exit((int)(long)cw_thread((void *)(long)(CW_THREADS + k)) ? 1 : 0);
	}
	for (k = 0; k < CW_THREADS; k++)
		pthread_create(&th[k], NULL, cw_thread, (void *)k);
	for (k = 0; k < CW_THREADS; k++) {
		pthread_join(th[k], &r);
		errs += (long)r;
	}
	for (k = 0; k < CW_PROCS; k++)
		errs += child_status(pid[k]) != 0;
	CHECK(errs == 0, "%ld failed writes", errs);
	printf("INFO cmd_concurrent_writers: %d writes in %llu ms\n",
	       (CW_THREADS + CW_PROCS) * (2 * CW_ITER + 1),
	       (unsigned long long)(now_ms() - t0));

	for (i = 0; i < 4; i++) {
		CHECK(wait_site(i, pred_modules, &expect[i], 5, &s1) == 0,
		      "site %u: %u modules, want %u", i, s1.cmd_modules, expect[i]);
	}
	/* restore */
	for (k = 0; k < CW_THREADS + CW_PROCS; k++) {
		char rem[64];

		snprintf(rem, sizeof(rem), "site=%s cmd_remove=1\n", cw_site[k]);
		CHECK(cmd(rem) == 0, "restore %s failed", cw_site[k]);
	}
	for (i = 0; i < 4; i++)
		CHECK(wait_site(i, pred_modules, &s0[i].cmd_modules, 5, &s1) == 0,
		      "site %u not restored", i);
	return 0;
}

static int dmesg_has_oops(char *what, size_t len)
{
	static const char *const bad[] = { "BUG", "Oops", "WARNING", "Call Trace",
					   "general protection", "Bad page state",
					   "cut here" };
	int n = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf;
	unsigned int i;

	if (n <= 0)
		n = 1 << 20;
	buf = malloc(n + 1);
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, n);
	if (n < 0) {
		snprintf(what, len, "klogctl: %s", strerror(errno));
		free(buf);
		return 1;
	}
	buf[n] = 0;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *p = strstr(buf, bad[i]);

		if (p) {
			char *e = strchr(p, '\n');

			snprintf(what, len, "dmesg: %.*s", e ? (int)(e - p) : 120, p);
			free(buf);
			return 1;
		}
	}
	free(buf);
	return 0;
}

static int rmmod_while_mapped(void)
{
	struct optifiber_dir d0, d1;
	struct optifiber_site s;
	char buf[64], what[256];
	uint64_t t;
	uint32_t i;
	int rc;
	ssize_t n;

	CHECK(M.base, "not mapped");
	read_dir(&M, &d0);
	rc = unload_module();
	CHECK(rc == 0, "rmmod with the pages mapped and myinfo open: %s", strerror(-rc));
	CHECK(!proc_exists(), "/proc/optifiber still exists");

	read_dir(&M, &d1);
	CHECK(d1.magic == OPTIFIBER_MAGIC, "magic gone after rmmod: 0x%08x", d1.magic);
	CHECK(!(d1.flags & OPTIFIBER_DIR_F_LIVE), "LIVE still set after rmmod");
	CHECK(!(d1.seq & 1), "dir seq odd after rmmod");
	/*
	 * Every page must still hold the last tick: booted with init_on_free=1,
	 * a page the module freed while mapped would read as zeros here.
	 */
	for (i = 0; i < M.nsites; i++) {
		read_site(&M, i, &s);
		CHECK(s.magic == OPTIFIBER_SITE_MAGIC && !strcmp(s.name, default_names[i]) &&
		      s.sample_seq == d1.tick && s.update_time_ns,
		      "site page %u after rmmod: magic 0x%08x name '%.32s' sample %llu (tick %llu)",
		      i, s.magic, s.name, (unsigned long long)s.sample_seq,
		      (unsigned long long)d1.tick);
	}
	t = d1.tick;
	sleep_ms(100);
	CHECK(dir_tick(&M) == t, "tick still moving after rmmod");
	CHECK(d1.tick >= d0.tick, "tick went back");

	/* the still-open fd: read fails cleanly, mmap fails cleanly */
	n = pread(M.fd, buf, sizeof(buf), 0);
	CHECK(n <= 0, "read on the stale fd returned %zd bytes", n);
	CHECK(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, M.fd, 0) == MAP_FAILED,
	      "mmap on the stale fd succeeded");
	unmap_pages(&M);
	CHECK(!dmesg_has_oops(what, sizeof(what)), "%s", what);
	return 0;
}

static volatile int stress_stop;

static void *stress_reader(void *arg)
{
	char buf[4096];
	long n = 0;
	int fd;

	while (!stress_stop) {
		fd = open(INFO_PATH, O_RDONLY);
		if (fd < 0)
			break;
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		n++;
	}
	return (void *)n;
}

static void *stress_writer(void *arg)
{
	long n = 0;

	while (!stress_stop) {
		if (cmd("site=Dallas cmd_add=1\nsite=Dallas cmd_remove=1\n") == ENOENT)
			break;
		n++;
	}
	return (void *)n;
}

/* rmmod while summary readers and command writers hammer the proc files */
static int rmmod_under_load(void)
{
	pthread_t r[2], w[2];
	long reads = 0, writes = 0;
	char what[256];
	void *v;
	int rc, i;

	rc = load_module("tick_ms=10");
	CHECK(rc == 0, "insmod: %s", strerror(-rc));
	stress_stop = 0;
	for (i = 0; i < 2; i++) {
		pthread_create(&r[i], NULL, stress_reader, NULL);
		pthread_create(&w[i], NULL, stress_writer, NULL);
	}
	sleep_ms(300);
	rc = unload_module();
	sleep_ms(100);
	stress_stop = 1;
	for (i = 0; i < 2; i++) {
		pthread_join(r[i], &v);
		reads += (long)v;
		pthread_join(w[i], &v);
		writes += (long)v;
	}
	CHECK(rc == 0, "rmmod under load: %s", strerror(-rc));
	CHECK(!proc_exists(), "/proc/optifiber still exists");
	CHECK(!dmesg_has_oops(what, sizeof(what)), "%s", what);
	printf("INFO rmmod_under_load: %ld summary reads, %ld command writes before rmmod\n",
	       reads, writes);
	return 0;
}

static int reload(void)
{
	static uint64_t prev_gen;
	struct mapping m;
	struct optifiber_dir d;
	int rc;

	rc = load_module("tick_ms=20");
	CHECK(rc == 0, "insmod: %s", strerror(-rc));
	rc = map_pages(&m);
	CHECK(rc == 0, "map: %s", strerror(-rc));
	read_dir(&m, &d);
	prev_gen = d.generation;
	CHECK(wait_tick(&m, d.tick + 2, 2000) == 0, "not ticking after reload");
	CHECK(d.flags & OPTIFIBER_DIR_F_LIVE, "not LIVE after reload");
	unmap_pages(&m);
	rc = unload_module();
	CHECK(rc == 0, "rmmod: %s", strerror(-rc));
	rc = load_module("tick_ms=20");
	CHECK(rc == 0, "second insmod: %s", strerror(-rc));
	rc = map_pages(&m);
	CHECK(rc == 0, "map: %s", strerror(-rc));
	read_dir(&m, &d);
	unmap_pages(&m);
	unload_module();
	CHECK(d.generation != prev_gen, "generation unchanged across reload");
	return 0;
}

static int many_sites(unsigned int n, unsigned int tick)
{
	char params[64], name[32], *txt, *p;
	struct optifiber_site s0, s1;
	struct mapping m;
	uint64_t t0 = now_ms();
	size_t len;
	int rc, lines = 0;

	snprintf(params, sizeof(params), "nsites=%u tick_ms=%u", n, tick);
	rc = load_module(params);
	CHECK(rc == 0, "insmod %s: %s", params, strerror(-rc));
	printf("INFO nsites=%u: insmod took %llu ms\n", n, (unsigned long long)(now_ms() - t0));
	rc = map_pages(&m);
	if (rc) {
		unload_module();
		FAIL("map: %s", strerror(-rc));
	}
	rc = -1;
	snprintf(name, sizeof(name), "site-%05u", n);
	if (m.nsites != n) {
		snprintf(failmsg, sizeof(failmsg), "site_count %u", m.nsites);
		goto out;
	}
	read_site(&m, 0, &s0);
	read_site(&m, n - 1, &s1);
	if (strcmp(s0.name, "site-00001") || strcmp(s1.name, name) || s1.site_index != n - 1) {
		snprintf(failmsg, sizeof(failmsg), "names '%s' .. '%s'", s0.name, s1.name);
		goto out;
	}
	if (wait_tick(&m, dir_tick(&m) + 2, 20 * tick) ||
	    (read_site(&m, n - 1, &s0), s0.sample_seq <= s1.sample_seq)) {
		snprintf(failmsg, sizeof(failmsg), "last site not advancing");
		goto out;
	}
	t0 = now_ms();
	txt = read_file(INFO_PATH, &len);
	for (p = txt; p && (p = strstr(p, "\nsite-")); p++)
		lines++;
	printf("INFO nsites=%u: summary %zu bytes in %llu ms\n", n, len,
	       (unsigned long long)(now_ms() - t0));
	p = txt ? strstr(txt, "tick_cost_ns") : NULL;
	if (p)
		printf("INFO nsites=%u: %.*s\n", n, (int)(strchr(p, '\n') - p), p);
	p = txt ? strstr(txt, "missed_ticks") : NULL;
	if (p)
		printf("INFO nsites=%u: %.*s\n", n, (int)(strchr(p, '\n') - p), p);
	free(txt);
	if (lines != (int)n) {
		snprintf(failmsg, sizeof(failmsg), "summary has %d site lines", lines);
		goto out;
	}
	rc = 0;
out:
	unmap_pages(&m);
	if (unload_module() && rc == 0)
		FAIL("rmmod: %s", strerror(errno));
	return rc;
}

static int nsites_4096(void)
{
	return many_sites(4096, 100);
}

static int nsites_max(void)
{
	return many_sites(OPTIFIBER_MAX_SITES, 1000);
}

static int dmesg_clean(void)
{
	char what[256];

	CHECK(!dmesg_has_oops(what, sizeof(what)), "%s", what);
	return 0;
}

static int run_all(void)
{
	RUN(boot_checks_active);
	RUN(invalid_params);
	RUN(load);
	RUN(abi_directory);
	RUN(site_names);
	RUN(summary_lists_sites);
	RUN(mmap_read_advances);
	RUN(seqcount_snapshot_consistent);
	RUN(mmap_write_refused);
	RUN(mprotect_write_refused);
	RUN(rdwr_write_refused);
	RUN(mmap_bounds);
	RUN(cmd_add_raises_capacity);
	RUN(fault_osnr_degrade);
	RUN(fault_clear);
	RUN(bad_commands);
	RUN(cmd_unprivileged_refused);
	RUN(cmd_concurrent_writers);
	RUN(rmmod_while_mapped);
	if (proc_exists())
		unload_module();
	RUN(rmmod_under_load);
	RUN(reload);
	RUN(nsites_4096);
	RUN(nsites_max);
	RUN(dmesg_clean);
	return nfail ? 1 : 0;
}

/*
 * parity KO "PARAMS" N OUT: load, wait for tick N, copy the pages to OUT for
 * "optifiber-sim hash OUT" (the simulator's parity hash, one implementation
 * for both hosts), unload.
 */
static int run_parity(const char *params, uint64_t n, const char *out)
{
	struct optifiber_dir d;
	int rc, fd;

	rc = load_module(params);
	if (rc) {
		printf("PARITY error insmod %s: %s\n", params, strerror(-rc));
		return 1;
	}
	rc = map_pages(&M);
	if (rc) {
		printf("PARITY error map: %s\n", strerror(-rc));
		return 1;
	}
	if (wait_tick(&M, n, 120000)) {
		printf("PARITY error tick stuck at %llu\n", (unsigned long long)dir_tick(&M));
		return 1;
	}
	sleep_ms(50);	/* must stay at n: max_ticks */
	read_dir(&M, &d);
	if (d.tick != n) {
		printf("PARITY error tick %llu != %llu\n", (unsigned long long)d.tick,
		       (unsigned long long)n);
		return 1;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, M.base, M.len) != (ssize_t)M.len || close(fd)) {
		printf("PARITY error write %s: %s\n", out, strerror(errno));
		return 1;
	}
	{
		struct optifiber_site s;
		uint64_t faults = 0, sum = 0;
		uint32_t i;

		for (i = 0; i < M.nsites; i++) {
			read_site(&M, i, &s);
			faults += s.faults_total;
			sum += s.fault != 0;
		}
		printf("INFO parity: kernel pages at tick %llu, %u sites, %llu faults started, %llu active, written to %s\n",
		       (unsigned long long)n, M.nsites, (unsigned long long)faults,
		       (unsigned long long)sum, out);
	}
	unmap_pages(&M);
	unload_module();
	return 0;
}

static void dump_json(void)
{
	struct optifiber_dir d;
	struct optifiber_site s;
	uint32_t i;

	if (map_pages(&M)) {
		printf("{\"error\":\"%s\"}\n", strerror(errno));
		return;
	}
	read_dir(&M, &d);
	printf("{\"tick\":%llu,\"site_count\":%u,\"seed\":\"%llu\",\"sites\":[",
	       (unsigned long long)d.tick, d.site_count, (unsigned long long)d.seed);
	for (i = 0; i < M.nsites; i++) {
		read_site(&M, i, &s);
		/* u64 values as strings too where they may pass 2^53 (the exporter check compares them exactly) */
		printf("%s{\"name\":\"%s\",\"cmd_modules\":%u,\"cmd_modules_max\":%u,"
		       "\"capacity_bps\":%llu,\"module_capacity_bps\":%llu,"
		       "\"sample_seq\":%llu,\"fault\":%u,\"link_state\":%u,"
		       "\"update_time_ns\":\"%llu\",\"throughput_bps\":%llu,\"offered_bps\":%llu,"
		       "\"bytes\":\"%llu\",\"crc_errors\":\"%llu\",\"fec_corrected_bits\":\"%llu\","
		       "\"fec_uncorrectable_blocks\":\"%llu\",\"los_events\":\"%llu\","
		       "\"pre_fec_ber_e18\":\"%llu\",\"post_fec_ber_e18\":\"%llu\","
		       "\"osnr_cdb\":%d,\"q_factor_cdb\":%d,\"rx_power_cdbm\":%d,\"tx_power_cdbm\":%d,"
		       "\"temperature_mc\":%d,\"absent\":\"%llu\"}",
		       i ? "," : "", s.name, s.cmd_modules, s.cmd_modules_max,
		       (unsigned long long)s.capacity_bps,
		       (unsigned long long)s.module_capacity_bps,
		       (unsigned long long)s.sample_seq, s.fault, s.link_state,
		       (unsigned long long)s.update_time_ns,
		       (unsigned long long)s.throughput_bps, (unsigned long long)s.offered_bps,
		       (unsigned long long)s.bytes, (unsigned long long)s.crc_errors,
		       (unsigned long long)s.fec_corrected_bits,
		       (unsigned long long)s.fec_uncorrectable_blocks,
		       (unsigned long long)s.los_events,
		       (unsigned long long)s.pre_fec_ber_e18,
		       (unsigned long long)s.post_fec_ber_e18,
		       s.osnr_cdb, s.q_factor_cdb, s.rx_power_cdbm, s.tx_power_cdbm,
		       s.temperature_mc, (unsigned long long)s.absent);
	}
	printf("]}\n");
	unmap_pages(&M);
}

/* ============================================================ ifaces= */

/*
 * The interface source under a real kernel: a veth pair (ofv0 mapped to
 * Dallas, its peer ofv1 the far end) and ofnic0 (tests/ofnic: FEC
 * statistics and an SFP's EEPROM) mapped to Stone.  Traffic is raw
 * Ethernet frames sent on ofv0 through an AF_PACKET socket; the reference
 * counters are /sys/class/net/NAME/statistics.
 */
#define IF_SITE		"Dallas"
#define IF_DEV		"ofv0"
#define IF_PEER		"ofv1"
#define NIC_SITE	"Stone"
#define NIC_DEV		"ofnic0"
#define IF_TICK_MS	100
#define IF_EEPROM_S	1
/* x86-64: QEMU's virtio-net NIC, its link flipped by the host's monitor */
#define QEMU_SITE	"Dobbins"
#define QEMU_DEV	"eth0"
#define QEMU_MODULES	"/virtio"
#define IF_PARAMS	"tick_ms=100 eeprom_interval_s=1 ifaces=" IF_DEV ":" IF_SITE "," \
			NIC_DEV ":" NIC_SITE "," QEMU_DEV ":" QEMU_SITE

static const char *veth_ko, *ofnic_ko;

/* a helper module (veth, ofnic) another case may have loaded already */
static int insmod_path(const char *path, const char *params)
{
	int rc = insmod(path, params);

	return rc == -EEXIST ? 0 : rc;
}

/* rtnetlink: one request, its ACK's error */
static struct rtattr *nl_put(struct nlmsghdr *h, int type, const void *data, int len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void nl_end(struct nlmsghdr *h, struct rtattr *a)
{
	a->rta_len = (char *)h + h->nlmsg_len - (char *)a;
}

static int nl_talk(struct nlmsghdr *h)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char reply[4096];
	struct nlmsghdr *r = (struct nlmsghdr *)reply;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ssize_t n;

	if (fd < 0)
		return -errno;
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = 1;
	if (sendto(fd, h, h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -errno;
	}
	n = recv(fd, reply, sizeof(reply), 0);
	close(fd);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || r->nlmsg_type != NLMSG_ERROR)
		return -EIO;
	return ((struct nlmsgerr *)NLMSG_DATA(r))->error;
}

static int veth_add(const char *a, const char *b)
{
	union { struct nlmsghdr h; char buf[1024]; } m;
	struct ifinfomsg peer = { .ifi_family = AF_UNSPEC };
	struct rtattr *li, *data, *pe;

	memset(&m, 0, sizeof(m));
	m.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	m.h.nlmsg_type = RTM_NEWLINK;
	m.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	nl_put(&m.h, IFLA_IFNAME, a, strlen(a) + 1);
	li = nl_put(&m.h, IFLA_LINKINFO, NULL, 0);
	nl_put(&m.h, IFLA_INFO_KIND, "veth", 4);
	data = nl_put(&m.h, IFLA_INFO_DATA, NULL, 0);
	pe = nl_put(&m.h, VETH_INFO_PEER, &peer, sizeof(peer));
	nl_put(&m.h, IFLA_IFNAME, b, strlen(b) + 1);
	nl_end(&m.h, pe);
	nl_end(&m.h, data);
	nl_end(&m.h, li);
	return nl_talk(&m.h);
}

static int link_del(const char *a)
{
	union { struct nlmsghdr h; char buf[256]; } m;
	struct ifinfomsg *ifi;

	memset(&m, 0, sizeof(m));
	m.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	m.h.nlmsg_type = RTM_DELLINK;
	ifi = NLMSG_DATA(&m.h);
	ifi->ifi_index = if_nametoindex(a);
	if (!ifi->ifi_index)
		return -ENODEV;
	return nl_talk(&m.h);
}

static int if_ioctl(unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return -errno;
	rc = ioctl(fd, req, ifr) ? -errno : 0;
	close(fd);
	return rc;
}

static int link_set(const char *name, int up)
{
	struct ifreq ifr = {};
	int rc;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	rc = if_ioctl(SIOCGIFFLAGS, &ifr);
	if (rc)
		return rc;
	ifr.ifr_flags = up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP;
	return if_ioctl(SIOCSIFFLAGS, &ifr);
}

static int link_rename(const char *from, const char *to)
{
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", from);
	snprintf(ifr.ifr_newname, IFNAMSIZ, "%s", to);
	return if_ioctl(SIOCSIFNAME, &ifr);
}

/* @count frames of @len bytes on @name, @burst at a time with 1 ms pauses */
static long send_frames(const char *name, int count, int len, int burst)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = ETH_ALEN };
	unsigned char frame[1514] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				      0x02, 0, 0, 0, 0, 1, 0x88, 0xb5 };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	long sent = 0;
	int i;

	if (fd < 0)
		return -errno;
	to.sll_ifindex = if_nametoindex(name);
	memset(to.sll_addr, 0xff, ETH_ALEN);
	for (i = 0; i < count; i++) {
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&to, sizeof(to)) == len)
			sent += len;
		if (burst && i % burst == burst - 1)
			sleep_ms(1);
	}
	close(fd);
	return sent;
}

static uint64_t sysfs_u64(const char *name, const char *stat)
{
	char path[128], *txt;
	uint64_t v;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", name, stat);
	txt = read_file(path, NULL);
	v = txt ? strtoull(txt, NULL, 10) : 0;
	free(txt);
	return v;
}

static uint64_t sysfs_bytes(const char *name)
{
	return sysfs_u64(name, "rx_bytes") + sysfs_u64(name, "tx_bytes");
}

/* Run fn in a child; -1 if it has not returned within @ms (held reference). */
static int bounded(int (*fn)(const void *), const void *arg, unsigned int ms)
{
	uint64_t end = now_ms() + ms;
	pid_t pid = fork();
	int st;

	if (pid == 0)
		_exit(fn(arg) ? 1 : 0);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_ms() > end)
			return -1;
		sleep_ms(10);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
}

static int do_link_del(const void *name)
{
	return link_del(name);
}

static int do_rmmod_ofnic(const void *unused)
{
	return syscall(SYS_delete_module, "ofnic", O_NONBLOCK) ? -errno : 0;
}

/* The fields a veth (no FEC statistics, no module EEPROM) leaves absent. */
#define ABSENT_NOT_A_NIC (OPTIFIBER_ABSENT_OFFERED | OPTIFIBER_ABSENT_MODULE_CAPACITY | \
			  OPTIFIBER_ABSENT_CMD_MODULES | OPTIFIBER_ABSENT_PRE_FEC_BER | \
			  OPTIFIBER_ABSENT_POST_FEC_BER | OPTIFIBER_ABSENT_OSNR | \
			  OPTIFIBER_ABSENT_Q_FACTOR | OPTIFIBER_ABSENT_CD | OPTIFIBER_ABSENT_FAULT)
#define ABSENT_VETH	(ABSENT_NOT_A_NIC | OPTIFIBER_ABSENT_FEC_CORRECTED | \
			 OPTIFIBER_ABSENT_FEC_UNCORRECTABLE | OPTIFIBER_ABSENT_RX_POWER | \
			 OPTIFIBER_ABSENT_TX_POWER | OPTIFIBER_ABSENT_LASER_BIAS | \
			 OPTIFIBER_ABSENT_TEMPERATURE)
#define ABSENT_GONE	(OPTIFIBER_ABSENT_ALL & ~OPTIFIBER_ABSENT_LINK_STATE)

static int if_site = -1, nic_site = -1;

static int pred_link(const struct optifiber_site *s, const void *arg)
{
	return s->link_state == *(const uint32_t *)arg &&
	       !(s->absent & OPTIFIBER_ABSENT_LINK_STATE);
}

static int pred_absent(const struct optifiber_site *s, const void *arg)
{
	return s->absent == *(const uint64_t *)arg;
}

static int iface_params_refused(void)
{
	static const struct refused bad[] = {
		{ "ifaces=ofv0", "'ofv0' is not IFNAME:SITE" },
		{ "ifaces=ofv0:Nowhere", "no site 'Nowhere'" },
		{ "ifaces=ofv0:Dallas,ofv1:Dallas", "site 'Dallas' is mapped twice" },
		{ "ifaces=ofv0:Dallas,ofv0:Stone", "interface 'ofv0' is mapped twice" },
		{ "ifaces=a/b:Dallas", "'a/b' is not a valid interface name" },
		{ "ifaces=ofv0:Dallas time_scale=60", "ifaces needs time_scale=1" },
	};
	return check_refused(bad, sizeof(bad) / sizeof(bad[0]));
}

static int iface_load(void)
{
	struct optifiber_dir d;
	struct optifiber_site s;
	uint32_t up = OPTIFIBER_LINK_UP;
	char *txt;
	int rc;

	rc = load_module(IF_PARAMS);
	CHECK(rc == 0, "insmod " IF_PARAMS ": %s", strerror(-rc));
	rc = map_pages(&M);
	CHECK(rc == 0, "map: %s", strerror(-rc));
	if_site = find_site(&M, IF_SITE);
	nic_site = find_site(&M, NIC_SITE);
	CHECK(if_site >= 0 && nic_site >= 0, "sites %s/%s not found", IF_SITE, NIC_SITE);
	read_dir(&M, &d);
	CHECK(d.flags == (OPTIFIBER_DIR_F_LIVE | OPTIFIBER_DIR_F_INTERFACE |
			  OPTIFIBER_DIR_F_SIMULATED),
	      "dir flags 0x%x, want LIVE|SIMULATED|INTERFACE", d.flags);
	CHECK(wait_site(if_site, pred_link, &up, 20, &s) == 0,
	      "%s (%s, carrier on) not UP: link_state %u absent 0x%llx", IF_SITE, IF_DEV,
	      s.link_state, (unsigned long long)s.absent);
	CHECK(s.flags == (OPTIFIBER_SITE_F_VALID | OPTIFIBER_SITE_F_INTERFACE),
	      "%s site flags 0x%x, want VALID|INTERFACE", IF_SITE, s.flags);
	/* the other sites are simulated as before */
	read_site(&M, find_site(&M, "MicrosoftDC"), &s);
	CHECK(s.absent == 0 && s.cmd_modules > 0 && s.osnr_cdb > 0,
	      "MicrosoftDC: absent 0x%llx cmd_modules %u osnr %d", (unsigned long long)s.absent,
	      s.cmd_modules, s.osnr_cdb);
	CHECK(s.flags == OPTIFIBER_SITE_F_VALID, "MicrosoftDC site flags 0x%x, want VALID",
	      s.flags);
	txt = read_file(INFO_PATH, NULL);
	CHECK(txt && strstr(txt, " interface") && strstr(txt, "ifaces\t\t" IF_DEV),
	      "summary lacks the interface flag or the ifaces line");
	free(txt);
	return 0;
}

/* veth: speed 10000 Mb/s, counters and link; no FEC, no module EEPROM */
static int iface_veth_fields(void)
{
	struct optifiber_site s;
	uint64_t want = ABSENT_VETH;

	CHECK(wait_site(if_site, pred_absent, &want, 20, &s) == 0,
	      "%s absent 0x%llx, want 0x%llx (FEC and EEPROM absent, counters, link, speed, "
	      "throughput present)", IF_SITE, (unsigned long long)s.absent,
	      (unsigned long long)want);
	CHECK(s.capacity_bps == 10000000000ULL, "capacity_bps %llu, want 10 Gb/s (veth)",
	      (unsigned long long)s.capacity_bps);
	CHECK(!s.fec_corrected_bits && !s.fec_uncorrectable_blocks && !s.rx_power_cdbm &&
	      !s.tx_power_cdbm && !s.laser_bias_ua && !s.temperature_mc && !s.cmd_modules &&
	      !s.osnr_cdb && !s.fault, "an absent field holds a value");
	return 0;
}

/* page bytes move exactly as sysfs rx_bytes + tx_bytes; throughput follows */
static int iface_counters_match_sysfs(void)
{
	struct optifiber_site a, b, p0, p1;
	uint64_t s0, s1, t, max_thr = 0;
	int agree = 0, pairs = 0, try;
	long sent;

	for (try = 0; try < 3; try++) {
		s0 = sysfs_bytes(IF_DEV);
		CHECK(wait_tick(&M, dir_tick(&M) + 2, 3000) == 0, "not ticking");
		read_site(&M, if_site, &p0);
		if (sysfs_bytes(IF_DEV) == s0)
			break;		/* quiet: p0 saw s0 */
	}
	sent = 0;
	read_site(&M, if_site, &a);
	for (t = 0; t < 6; t++) {
		sent += send_frames(IF_DEV, 300, 1000, 20);
		read_site(&M, if_site, &b);
		if (b.sample_seq == a.sample_seq + 1 && b.throughput_bps &&
		    b.update_time_ns > a.update_time_ns) {
			double bps = (double)(b.bytes - a.bytes) * 8e9 /
				     (double)(b.update_time_ns - a.update_time_ns);

			pairs++;
			agree += bps > 0.75 * b.throughput_bps && bps < 1.25 * b.throughput_bps;
		}
		if (b.throughput_bps > max_thr)
			max_thr = b.throughput_bps;
		a = b;
	}
	CHECK(sent >= 6 * 300 * 1000, "sent %ld bytes", sent);
	CHECK(wait_tick(&M, dir_tick(&M) + 2, 3000) == 0, "not ticking");
	read_site(&M, if_site, &p1);
	s1 = sysfs_bytes(IF_DEV);
	CHECK(s1 - s0 >= (uint64_t)sent, "sysfs moved %llu, sent %ld",
	      (unsigned long long)(s1 - s0), sent);
	CHECK(p1.bytes - p0.bytes == s1 - s0, "page bytes moved %llu, sysfs rx+tx %llu",
	      (unsigned long long)(p1.bytes - p0.bytes), (unsigned long long)(s1 - s0));
	CHECK(max_thr > 0, "throughput stayed 0 while %ld bytes were sent", sent);
	CHECK(p1.throughput_bps == 0 && !(p1.absent & OPTIFIBER_ABSENT_THROUGHPUT),
	      "quiet link: throughput %llu absent 0x%llx", (unsigned long long)p1.throughput_bps,
	      (unsigned long long)p1.absent);
	printf("INFO iface_counters_match_sysfs: %ld bytes sent, page and sysfs +%llu, peak %llu bit/s, "
	       "%d of %d tick pairs with throughput within 25%% of bytes/time\n", sent,
	       (unsigned long long)(s1 - s0), (unsigned long long)max_thr, agree, pairs);
	CHECK(pairs == 0 || agree > 0, "throughput never agreed with the bytes counter");
	return 0;
}

static int iface_carrier_down(void)
{
	struct optifiber_site s0, s;
	uint32_t down = OPTIFIBER_LINK_DOWN, up = OPTIFIBER_LINK_UP;
	int rc;

	read_site(&M, if_site, &s0);
	rc = link_set(IF_PEER, 0);	/* the far end goes away: carrier off */
	CHECK(rc == 0, "%s down: %s", IF_PEER, strerror(-rc));
	CHECK(wait_site(if_site, pred_link, &down, 20, &s) == 0,
	      "peer down, %s still link_state %u", IF_SITE, s.link_state);
	CHECK(s.los_events == s0.los_events + 1, "los_events %llu -> %llu, want +1",
	      (unsigned long long)s0.los_events, (unsigned long long)s.los_events);
	CHECK(!(s.absent & OPTIFIBER_ABSENT_BYTES), "bytes absent while the interface exists");
	rc = link_set(IF_PEER, 1);
	CHECK(rc == 0, "%s up: %s", IF_PEER, strerror(-rc));
	CHECK(wait_site(if_site, pred_link, &up, 20, &s) == 0, "peer up, %s still link_state %u",
	      IF_SITE, s.link_state);
	return 0;
}

static int iface_cmd_refused(void)
{
	static char log[4096];
	int rc;

	kmsg_mark();
	rc = cmd("site=" IF_SITE " cmd_add=1\n");
	CHECK(rc == EOPNOTSUPP, "cmd_add on %s: %s, want EOPNOTSUPP", IF_SITE,
	      rc ? strerror(rc) : "accepted");
	rc = cmd("site=MicrosoftDC cmd_add=1\nsite=" IF_SITE " fault=fiber_cut\n");
	CHECK(rc == EOPNOTSUPP, "batch with a fault on %s: %s, want EOPNOTSUPP", IF_SITE,
	      rc ? strerror(rc) : "accepted");
	kmsg_since_mark(log, sizeof(log));
	CHECK(strstr(log, "network interface"), "the refusal was not logged: '%.200s'", log);
	rc = cmd("site=MicrosoftDC cmd_add=1\nsite=MicrosoftDC cmd_remove=1\n");
	CHECK(rc == 0, "cmd_add on the simulated MicrosoftDC: %s", strerror(rc));
	return 0;
}

static int iface_rename(void)
{
	struct optifiber_site s0, s;
	uint64_t gone = ABSENT_GONE;
	uint32_t up = OPTIFIBER_LINK_UP;
	int rc;

	read_site(&M, if_site, &s0);
	CHECK(link_set(IF_DEV, 0) == 0 && link_rename(IF_DEV, "ofv0x") == 0,
	      "rename %s: %s", IF_DEV, strerror(errno));
	CHECK(wait_site(if_site, pred_absent, &gone, 20, &s) == 0 &&
	      s.link_state == OPTIFIBER_LINK_DOWN,
	      "renamed away: absent 0x%llx link %u", (unsigned long long)s.absent, s.link_state);
	rc = link_rename("ofv0x", IF_DEV);
	CHECK(rc == 0 && link_set(IF_DEV, 1) == 0, "rename back: %s", strerror(-rc));
	CHECK(wait_site(if_site, pred_link, &up, 20, &s) == 0, "renamed back: link %u",
	      s.link_state);
	CHECK(!(s.absent & OPTIFIBER_ABSENT_BYTES) && s.bytes >= s0.bytes,
	      "bytes went back after the rename: %llu -> %llu", (unsigned long long)s0.bytes,
	      (unsigned long long)s.bytes);
	return 0;
}

static int iface_unregister(void)
{
	struct optifiber_site s;
	uint64_t gone = ABSENT_GONE;
	uint32_t up = OPTIFIBER_LINK_UP;
	char what[256];
	int rc;

	rc = bounded(do_link_del, IF_DEV, 10000);
	CHECK(rc == 0, "ip link del %s: %s", IF_DEV,
	      rc < 0 ? "still blocked after 10 s (a reference is held)" : "failed");
	CHECK(wait_site(if_site, pred_absent, &gone, 20, &s) == 0 &&
	      s.link_state == OPTIFIBER_LINK_DOWN && s.bytes == 0,
	      "unregistered: absent 0x%llx link %u bytes %llu", (unsigned long long)s.absent,
	      s.link_state, (unsigned long long)s.bytes);
	CHECK(!dmesg_has_oops(what, sizeof(what)), "%s", what);
	/* it comes back under the same name: followed again */
	rc = veth_add(IF_DEV, IF_PEER);
	CHECK(rc == 0, "veth add again: %s", strerror(-rc));
	CHECK(link_set(IF_DEV, 1) == 0 && link_set(IF_PEER, 1) == 0, "up: %s", strerror(errno));
	CHECK(wait_site(if_site, pred_link, &up, 20, &s) == 0, "re-created: link %u",
	      s.link_state);
	return 0;
}

/* ofnic0: FEC statistics and the SFP's diagnostics, through the real driver calls */
static int iface_nic_fec_eeprom(void)
{
	struct optifiber_site s, s2;
	uint64_t want = ABSENT_NOT_A_NIC;
	uint32_t up = OPTIFIBER_LINK_UP;

	CHECK(nic_site >= 0, "not loaded");
	CHECK(wait_site(nic_site, pred_link, &up, 20, &s) == 0, "%s link %u", NIC_SITE,
	      s.link_state);
	CHECK(wait_site(nic_site, pred_absent, &want, 20, &s) == 0,
	      "%s absent 0x%llx, want 0x%llx", NIC_SITE, (unsigned long long)s.absent,
	      (unsigned long long)want);
	/* the canned A2h page: 35.5 degC, 6 mA, 0.5012 mW, 0.1 mW */
	CHECK(s.temperature_mc == 35500 && s.laser_bias_ua == 6000 &&
	      s.tx_power_cdbm == -300 && s.rx_power_cdbm == -1000,
	      "DOM: temp %d mC bias %u uA tx %d rx %d cdBm, want 35500 6000 -300 -1000",
	      s.temperature_mc, s.laser_bias_ua, s.tx_power_cdbm, s.rx_power_cdbm);
	CHECK(s.capacity_bps == 100000000000ULL, "capacity %llu, want 100 Gb/s",
	      (unsigned long long)s.capacity_bps);
	CHECK(wait_tick(&M, dir_tick(&M) + 3, 3000) == 0, "not ticking");
	read_site(&M, nic_site, &s2);
	/* +1000 corrected bits and +2 blocks (two lanes, no total) per read */
	CHECK(s2.fec_corrected_bits > s.fec_corrected_bits &&
	      (s2.fec_corrected_bits - s.fec_corrected_bits) ==
	      1000 * (s2.sample_seq - s.sample_seq),
	      "fec_corrected_bits %llu -> %llu over %llu samples, want +1000 each",
	      (unsigned long long)s.fec_corrected_bits, (unsigned long long)s2.fec_corrected_bits,
	      (unsigned long long)(s2.sample_seq - s.sample_seq));
	CHECK(s2.fec_uncorrectable_blocks - s.fec_uncorrectable_blocks ==
	      2 * (s2.sample_seq - s.sample_seq),
	      "fec_uncorrectable_blocks %llu -> %llu, want +2 per sample (lane sum)",
	      (unsigned long long)s.fec_uncorrectable_blocks,
	      (unsigned long long)s2.fec_uncorrectable_blocks);
	return 0;
}

static int iface_nic_unregister(void)
{
	struct optifiber_site s;
	uint64_t gone = ABSENT_GONE;
	int rc = bounded(do_rmmod_ofnic, NULL, 10000);

	CHECK(rc == 0, "rmmod ofnic: %s", rc < 0 ? "blocked after 10 s (a reference is held)" :
	      "failed");
	CHECK(wait_site(nic_site, pred_absent, &gone, 20, &s) == 0 &&
	      s.link_state == OPTIFIBER_LINK_DOWN,
	      "%s after its NIC went: absent 0x%llx link %u", NIC_SITE,
	      (unsigned long long)s.absent, s.link_state);
	return 0;
}

static int iface_rmmod(void)
{
	char what[256];
	int rc;

	unmap_pages(&M);
	rc = unload_module();
	CHECK(rc == 0, "rmmod with bound interfaces: %s", strerror(-rc));
	CHECK(!proc_exists(), "/proc/optifiber still exists");
	rc = bounded(do_link_del, IF_DEV, 10000);
	CHECK(rc == 0, "ip link del %s after rmmod: %s", IF_DEV, rc < 0 ? "blocked" : "failed");
	CHECK(!dmesg_has_oops(what, sizeof(what)), "%s", what);
	return 0;
}

static long ofnic_eeprom_reads(void)
{
	char *txt = read_file("/sys/module/ofnic/parameters/eeprom_reads", NULL);
	long n = txt ? strtol(txt, NULL, 10) : -1;

	free(txt);
	return n;
}

/*
 * ofnic cmis=1: a coherent CMIS module; its VDM gives pre-FEC BER and OSNR,
 * its CD observable sits on a page the driver reads short (absent).  The
 * EEPROM is read at most every eeprom_interval_s, counted by ofnic.
 */
static int iface_nic_cmis_vdm(void)
{
	struct optifiber_site s;
	uint64_t want = ABSENT_NOT_A_NIC & ~(OPTIFIBER_ABSENT_PRE_FEC_BER | OPTIFIBER_ABSENT_OSNR);
	uint64_t t0, t1;
	long r0, r1;
	int rc;

	rc = insmod_path(ofnic_ko, "cmis=1");
	CHECK(rc == 0, "insmod ofnic cmis=1: %s", strerror(-rc));
	CHECK(link_set(NIC_DEV, 1) == 0, "%s up: %s", NIC_DEV, strerror(errno));
	CHECK(wait_site(nic_site, pred_absent, &want, 30, &s) == 0,
	      "%s absent 0x%llx, want 0x%llx", NIC_SITE, (unsigned long long)s.absent,
	      (unsigned long long)want);
	CHECK(s.pre_fec_ber_e18 == 1500000000000000ULL && s.osnr_cdb == 2450 &&
	      !s.chromatic_dispersion_ps_nm,
	      "VDM: BER*1e18 %llu OSNR %d CD %d, want 1.5e15 2450 absent",
	      (unsigned long long)s.pre_fec_ber_e18, s.osnr_cdb, s.chromatic_dispersion_ps_nm);
	CHECK(s.temperature_mc == 45000 && s.laser_bias_ua == 8000 && s.tx_power_cdbm == 0 &&
	      s.rx_power_cdbm == -1000,
	      "CMIS DOM: temp %d bias %u tx %d rx %d, want 45000 8000 0 -1000",
	      s.temperature_mc, s.laser_bias_ua, s.tx_power_cdbm, s.rx_power_cdbm);
	/* the rate: about one read per eeprom_interval_s, not one per tick */
	t0 = dir_tick(&M);
	r0 = ofnic_eeprom_reads();
	CHECK(wait_tick(&M, t0 + 30, 15000) == 0, "not ticking");
	t1 = dir_tick(&M);
	r1 = ofnic_eeprom_reads();
	printf("INFO iface_nic_cmis_vdm: %ld EEPROM reads in %llu ticks of %d ms "
	       "(eeprom_interval_s=%d)\n", r1 - r0, (unsigned long long)(t1 - t0), IF_TICK_MS,
	       IF_EEPROM_S);
	CHECK(r0 >= 1 && r1 > r0, "EEPROM not re-read: %ld -> %ld", r0, r1);
	CHECK((uint64_t)(r1 - r0) * 3 <= t1 - t0, "%ld reads in %llu ticks: not rate-limited",
	      r1 - r0, (unsigned long long)(t1 - t0));
	rc = bounded(do_rmmod_ofnic, NULL, 10000);
	CHECK(rc == 0, "rmmod ofnic cmis=1: %s", rc < 0 ? "blocked" : "failed");
	return 0;
}

/*
 * The virtio stack from Debian's image package, 0.ko .. in dependency order
 * (run-qemu.mjs); "loaded already" counts.
 */
static int load_virtio_net(void)
{
	char path[64];
	int i, rc;

	for (i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), QEMU_MODULES "/%d.ko", i);
		if (access(path, R_OK))
			break;
		rc = insmod_path(path, "");
		if (rc) {
			FAILMSG("insmod %s: %s", path, strerror(-rc));
			return rc;
		}
	}
	if (!i)
		FAILMSG("no %s/0.ko", QEMU_MODULES);
	return i ? 0 : -ENOENT;
}

/* asks the host (run-qemu.mjs) for QMP set_link on the NIC; it watches the console */
static void qemu_set_link(int up)
{
	printf("VMTEST SETLINK %s\n", up ? "on" : "off");
	fflush(stdout);
}

/*
 * The NIC's link, flipped outside the guest through the QEMU monitor, as a
 * cable pulled: carrier and operstate follow in the virtio-net driver, the
 * page's link_state and its carrier-down counter (los_events) follow them.
 */
static int iface_qemu_set_link(void)
{
	struct optifiber_site s0, s;
	uint32_t down = OPTIFIBER_LINK_DOWN, up = OPTIFIBER_LINK_UP;
	int site = find_site(&M, QEMU_SITE), rc;

	rc = load_virtio_net();
	if (rc)
		return -1;	/* failmsg names the module */
	CHECK(link_set(QEMU_DEV, 1) == 0, "%s up: %s", QEMU_DEV, strerror(errno));
	CHECK(wait_site(site, pred_link, &up, 100, &s0) == 0, "%s (%s) not UP: link %u",
	      QEMU_SITE, QEMU_DEV, s0.link_state);
	qemu_set_link(0);
	CHECK(wait_site(site, pred_link, &down, 100, &s) == 0,
	      "set_link off: %s still link_state %u", QEMU_SITE, s.link_state);
	CHECK(s.los_events == s0.los_events + 1, "los_events %llu -> %llu, want +1",
	      (unsigned long long)s0.los_events, (unsigned long long)s.los_events);
	CHECK(!(s.absent & OPTIFIBER_ABSENT_BYTES), "bytes absent while the NIC exists");
	qemu_set_link(1);
	CHECK(wait_site(site, pred_link, &up, 100, &s) == 0,
	      "set_link on: %s still link_state %u", QEMU_SITE, s.link_state);
	CHECK(s.los_events == s0.los_events + 1, "los_events %llu after up, want %llu",
	      (unsigned long long)s.los_events, (unsigned long long)s0.los_events + 1);
	return 0;
}

/* IPv6 would send its own packets on a new link: the counters must be ours */
static void quiet_ipv6(void)
{
	int fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			perror("disable_ipv6");
		close(fd);
	}
}

static int net_setup(void)
{
	int rc;

	quiet_ipv6();
	rc = insmod_path(veth_ko, "");
	CHECK(rc == 0, "insmod %s: %s", veth_ko, strerror(-rc));
	rc = veth_add(IF_DEV, IF_PEER);
	CHECK(rc == 0, "veth add %s %s: %s", IF_DEV, IF_PEER, strerror(-rc));
	CHECK(link_set(IF_DEV, 1) == 0 && link_set(IF_PEER, 1) == 0, "veth up: %s",
	      strerror(errno));
	rc = insmod_path(ofnic_ko, "");
	CHECK(rc == 0, "insmod %s: %s", ofnic_ko, strerror(-rc));
	CHECK(link_set(NIC_DEV, 1) == 0, "%s up: %s", NIC_DEV, strerror(errno));
	return 0;
}

static int run_iface(void)
{
	RUN(net_setup);
	RUN(iface_params_refused);
	RUN(iface_load);
	RUN(iface_veth_fields);
	RUN(iface_counters_match_sysfs);
	RUN(iface_carrier_down);
	RUN(iface_cmd_refused);
	RUN(iface_rename);
	RUN(iface_unregister);
	RUN(iface_nic_fec_eeprom);
	RUN(iface_nic_unregister);
	RUN(iface_nic_cmis_vdm);
	if (!access(QEMU_MODULES, F_OK))
		RUN(iface_qemu_set_link);
	RUN(iface_rmmod);
	return nfail ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 3 && !strcmp(argv[1], "all")) {
		ko_path = argv[2];
		return run_all();
	}
	if (argc == 6 && !strcmp(argv[1], "parity")) {
		ko_path = argv[2];
		return run_parity(argv[3], strtoull(argv[4], NULL, 10), argv[5]);
	}
	if (argc >= 3 && !strcmp(argv[1], "load")) {
		int rc;

		ko_path = argv[2];
		rc = load_module(argc > 3 ? argv[3] : "");
		if (rc)
			fprintf(stderr, "insmod: %s\n", strerror(-rc));
		return rc ? 1 : 0;
	}
	if (argc == 3 && !strcmp(argv[1], "dmesg")) {
		char name[64], what[256];

		/* after each phase of /init: the log holds no oops, WARN or BUG */
		snprintf(name, sizeof(name), "dmesg_clean_after_%s", argv[2]);
		if (dmesg_has_oops(what, sizeof(what))) {
			FAILMSG("%s", what);
			report(name, -1);
		} else {
			report(name, 0);
		}
		return nfail ? 1 : 0;
	}
	if (argc == 2 && !strcmp(argv[1], "dump")) {
		dump_json();
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "iface")) {
		ko_path = argv[2];
		veth_ko = argv[3];
		ofnic_ko = argv[4];
		return run_iface();
	}
	if (argc == 4 && !strcmp(argv[1], "veth-add")) {
		quiet_ipv6();
		return veth_add(argv[2], argv[3]) || link_set(argv[2], 1) || link_set(argv[3], 1);
	}
	if (argc == 3 && !strcmp(argv[1], "veth-del"))
		return link_del(argv[2]) ? 1 : 0;
	if (argc == 4 && !strcmp(argv[1], "link"))
		return link_set(argv[2], !strcmp(argv[3], "up")) ? 1 : 0;
	fprintf(stderr, "usage: optifiber_vmtest all KO | parity KO PARAMS N OUT | load KO [PARAMS] | dmesg PHASE | dump\n");
	return 2;
}
