// SPDX-License-Identifier: GPL-2.0
/*
 * Prints the OptiFiber page layout as the compiler sees it, as JSON:
 * sizeof of both structs, offset/size/element type of every member and the
 * value of every constant.  exporter/test/abi-layout.test.ts compares this
 * with exporter/src/abi/layout.ts (and checks that the members listed here
 * are all of the header's, by tiling each struct with no gap).
 *
 *   gcc -std=c11 -Wall -Werror -I kernel/include/uapi -o dump abi_layout_dump.c
 *
 * <linux/types.h> comes from the system's kernel headers (linux-libc-dev).
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/optifiber.h>

/* Element type of a member: arrays decay to a pointer to their element. */
#define TYPE_NAME(x) _Generic((x),					\
	__u8: "u8", __u16: "u16", __u32: "u32", __u64: "u64",		\
	__s32: "s32", char *: "char", __u8 *: "u8",			\
	__u8 (*)[OPTIFIBER_SAMPLE_LEN]: "u8")

static int first;

#define FIELD(st, member)						\
	printf("%s\n      {\"name\": \"%s\", \"offset\": %zu, \"size\": %zu, \"type\": \"%s\"}", \
	       first ? "" : ",", #member, offsetof(struct st, member),	\
	       sizeof(((struct st *)0)->member),			\
	       TYPE_NAME(((struct st *)0)->member)), first = 0

#define CONST(name)							\
	printf("%s\n    \"%s\": %llu", first ? "" : ",", #name,		\
	       (unsigned long long)(name)), first = 0

static void begin_struct(const char *name, size_t size)
{
	printf("    \"%s\": {\"size\": %zu, \"fields\": [", name, size);
	first = 1;
}

int main(void)
{
	printf("{\n  \"structs\": {\n");

	begin_struct("optifiber_dir", sizeof(struct optifiber_dir));
	FIELD(optifiber_dir, seq);
	FIELD(optifiber_dir, magic);
	FIELD(optifiber_dir, abi_major);
	FIELD(optifiber_dir, abi_minor);
	FIELD(optifiber_dir, page_size);
	FIELD(optifiber_dir, site_count);
	FIELD(optifiber_dir, tick_interval_ms);
	FIELD(optifiber_dir, time_scale);
	FIELD(optifiber_dir, flags);
	FIELD(optifiber_dir, generation);
	FIELD(optifiber_dir, tick);
	FIELD(optifiber_dir, update_time_ns);
	FIELD(optifiber_dir, sim_time_s);
	FIELD(optifiber_dir, seed);
	FIELD(optifiber_dir, host);
	FIELD(optifiber_dir, __reserved);
	printf("\n    ]},\n");

	begin_struct("optifiber_site", sizeof(struct optifiber_site));
	FIELD(optifiber_site, seq);
	FIELD(optifiber_site, magic);
	FIELD(optifiber_site, abi_major);
	FIELD(optifiber_site, abi_minor);
	FIELD(optifiber_site, site_index);
	FIELD(optifiber_site, flags);
	FIELD(optifiber_site, __pad0);
	FIELD(optifiber_site, sample_seq);
	FIELD(optifiber_site, update_time_ns);
	FIELD(optifiber_site, sim_time_s);
	FIELD(optifiber_site, name);
	FIELD(optifiber_site, throughput_bps);
	FIELD(optifiber_site, offered_bps);
	FIELD(optifiber_site, capacity_bps);
	FIELD(optifiber_site, module_capacity_bps);
	FIELD(optifiber_site, cmd_modules);
	FIELD(optifiber_site, cmd_modules_max);
	FIELD(optifiber_site, link_state);
	FIELD(optifiber_site, __pad1);
	FIELD(optifiber_site, bytes);
	FIELD(optifiber_site, crc_errors);
	FIELD(optifiber_site, fec_corrected_bits);
	FIELD(optifiber_site, fec_uncorrectable_blocks);
	FIELD(optifiber_site, los_events);
	FIELD(optifiber_site, pre_fec_ber_e18);
	FIELD(optifiber_site, post_fec_ber_e18);
	FIELD(optifiber_site, osnr_cdb);
	FIELD(optifiber_site, q_factor_cdb);
	FIELD(optifiber_site, rx_power_cdbm);
	FIELD(optifiber_site, tx_power_cdbm);
	FIELD(optifiber_site, chromatic_dispersion_ps_nm);
	FIELD(optifiber_site, laser_bias_ua);
	FIELD(optifiber_site, temperature_mc);
	FIELD(optifiber_site, __pad2);
	FIELD(optifiber_site, fault);
	FIELD(optifiber_site, __pad3);
	FIELD(optifiber_site, fault_start_sim_s);
	FIELD(optifiber_site, fault_end_sim_s);
	FIELD(optifiber_site, faults_total);
	FIELD(optifiber_site, absent);
	FIELD(optifiber_site, recent);
	FIELD(optifiber_site, __reserved);
	printf("\n    ]}\n  },\n  \"constants\": {");

	first = 1;
	CONST(OPTIFIBER_MAGIC);
	CONST(OPTIFIBER_SITE_MAGIC);
	CONST(OPTIFIBER_ABI_MAJOR);
	CONST(OPTIFIBER_ABI_MINOR);
	CONST(OPTIFIBER_PAGE_SIZE);
	CONST(OPTIFIBER_MAX_SITES);
	CONST(OPTIFIBER_SITE_NAME_LEN);
	CONST(OPTIFIBER_HOST_LEN);
	CONST(OPTIFIBER_RECENT);
	CONST(OPTIFIBER_SAMPLE_OFFSET);
	CONST(OPTIFIBER_SAMPLE_LEN);
	CONST(OPTIFIBER_DIR_F_LIVE);
	CONST(OPTIFIBER_DIR_F_SIMULATED);
	CONST(OPTIFIBER_DIR_F_REPLAY);
	CONST(OPTIFIBER_DIR_F_INTERFACE);
	CONST(OPTIFIBER_SITE_F_VALID);
	CONST(OPTIFIBER_SITE_F_INTERFACE);
	CONST(OPTIFIBER_LINK_DOWN);
	CONST(OPTIFIBER_LINK_UP);
	CONST(OPTIFIBER_LINK_DEGRADED);
	CONST(OPTIFIBER_FAULT_NONE);
	CONST(OPTIFIBER_FAULT_FIBER_CUT);
	CONST(OPTIFIBER_FAULT_OSNR_DEGRADE);
	CONST(OPTIFIBER_FAULT_BER_CREEP);
	CONST(OPTIFIBER_FAULT_AMP_FAILURE);
	CONST(OPTIFIBER_FAULT_CRC_BURST);
	CONST(OPTIFIBER_FAULT_TRAFFIC_SURGE);
	CONST(OPTIFIBER_FAULT_COUNT);
	CONST(OPTIFIBER_ABSENT_THROUGHPUT);
	CONST(OPTIFIBER_ABSENT_OFFERED);
	CONST(OPTIFIBER_ABSENT_CAPACITY);
	CONST(OPTIFIBER_ABSENT_MODULE_CAPACITY);
	CONST(OPTIFIBER_ABSENT_CMD_MODULES);
	CONST(OPTIFIBER_ABSENT_LINK_STATE);
	CONST(OPTIFIBER_ABSENT_BYTES);
	CONST(OPTIFIBER_ABSENT_CRC_ERRORS);
	CONST(OPTIFIBER_ABSENT_FEC_CORRECTED);
	CONST(OPTIFIBER_ABSENT_FEC_UNCORRECTABLE);
	CONST(OPTIFIBER_ABSENT_LOS_EVENTS);
	CONST(OPTIFIBER_ABSENT_PRE_FEC_BER);
	CONST(OPTIFIBER_ABSENT_POST_FEC_BER);
	CONST(OPTIFIBER_ABSENT_OSNR);
	CONST(OPTIFIBER_ABSENT_Q_FACTOR);
	CONST(OPTIFIBER_ABSENT_RX_POWER);
	CONST(OPTIFIBER_ABSENT_TX_POWER);
	CONST(OPTIFIBER_ABSENT_CD);
	CONST(OPTIFIBER_ABSENT_LASER_BIAS);
	CONST(OPTIFIBER_ABSENT_TEMPERATURE);
	CONST(OPTIFIBER_ABSENT_FAULT);
	CONST(OPTIFIBER_ABSENT_ALL);
	printf("\n  }\n}\n");
	return 0;
}
