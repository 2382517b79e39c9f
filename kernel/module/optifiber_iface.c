// SPDX-License-Identifier: GPL-2.0
/*
 * The network-interface source: ifaces=eth1:Dallas,eth2:Stone fills the
 * pages of Dallas and Stone from eth1 and eth2 instead of the simulation.
 *
 * What each page field comes from (anything else is marked absent through
 * optifiber_site.absent, never invented):
 *   bytes, crc_errors     dev_get_stats(): rx_bytes + tx_bytes, rx_crc_errors
 *   throughput_bps        the busier direction over the last tick (a full-
 *                         duplex link's speed is per direction, so
 *                         throughput / capacity stays a utilisation)
 *   link_state            UP if running, carrier on and operstate up (or
 *                         unknown, as for drivers without operstate), else
 *                         DOWN; DOWN with every other field absent while the
 *                         interface does not exist
 *   los_events            carrier-down transitions (dev->carrier_down_count)
 *   capacity_bps          ethtool link settings: speed
 *   fec_corrected_bits,   ethtool_ops->get_fec_stats(): corrected_bits and
 *   fec_uncorrectable_blocks  uncorrectable_blocks (total, else the lanes)
 *   rx/tx power, laser bias, temperature
 *                         module EEPROM (the SFP bus, get_module_eeprom_by_page
 *                         or the legacy get_module_info/get_module_eeprom),
 *                         decoded by ../common/sfp_dom.c
 *   pre_fec_ber_e18, osnr_cdb, chromatic_dispersion_ps_nm
 *                         a CMIS module's VDM pages (coherent modules,
 *                         C-CMIS observables), decoded by ../common/sfp_dom.c
 * The module EEPROM is read at most every eeprom_interval_s seconds (an
 * I2C transfer per page is slow on real hardware); in between, the page
 * repeats the last decoded values, so they are at most that old.  A read
 * that fails marks its fields absent at once, and a newly bound device
 * starts with none.
 * Counters count from load: each is kept as the sum of the device
 * counter's increments, so a device replaced under the same name (or one
 * that resets its counters) does not make the page counter go back.
 *
 * Locking.  Every device pointer below is owned by RTNL: the netdevice
 * notifier (called under RTNL) binds a configured name to its device when
 * it registers or is renamed to that name, and lets go of it when it is
 * unregistered or renamed away.  A bound device is held with
 * netdev_hold() and released in NETDEV_UNREGISTER, before the core waits
 * for the last reference, so unregistering is never blocked.  The tick
 * work reads each interface under RTNL, as the ethtool core calls drivers
 * (runtime PM of the parent, ethtool_ops->begin/complete), which may sleep;
 * that happens before the tick takes of_lock and opens the directory
 * seqcount, and publishing the samples afterwards does not sleep.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ethtool.h>
#include <linux/math64.h>
#include <linux/netdevice.h>
#include <linux/notifier.h>
#include <linux/pm_runtime.h>
#include <linux/rtnetlink.h>
#include <linux/sfp.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <net/net_namespace.h>

#include "../sim/ofsim.h"
#include "../common/sfp_dom.h"
#include "optifiber_iface.h"

#define OF_DOM_ABSENT	(OPTIFIBER_ABSENT_TEMPERATURE | \
			 OPTIFIBER_ABSENT_LASER_BIAS | \
			 OPTIFIBER_ABSENT_TX_POWER | OPTIFIBER_ABSENT_RX_POWER)
#define OF_VDM_ABSENT	(OPTIFIBER_ABSENT_PRE_FEC_BER | OPTIFIBER_ABSENT_OSNR | \
			 OPTIFIBER_ABSENT_CD)

static unsigned int eeprom_interval_s = 10;
module_param(eeprom_interval_s, uint, 0444);
MODULE_PARM_DESC(eeprom_interval_s,
		 "ifaces=: read module EEPROM at most every N seconds (0: every tick; default 10)");

/* I2C addresses of SFF-8472: A0h (identity, the only one of other specs), A2h */
#define OF_EEPROM_A0	0x50
#define OF_EEPROM_A2	0x51

/* A device counter, as increments summed since load. */
struct of_ctr {
	u64	last;		/* device value at the previous read */
	u64	acc;		/* published value */
	bool	have;		/* last is from the bound device */
};

enum {
	OF_PG_LOWER, OF_PG_A2, OF_PG_00, OF_PG_01, OF_PG_11, OF_PG_2F,
	OF_PG_VDM_DESC,					/* pages 20h.. */
	OF_PG_VDM_SMP = OF_PG_VDM_DESC + SFP_VDM_GROUPS,	/* pages 24h.. */
	OF_PG_N = OF_PG_VDM_SMP + SFP_VDM_GROUPS
};

struct of_iface {
	/* from ifaces=, immutable */
	char			ifname[IFNAMSIZ];
	char			site_name[OPTIFIBER_SITE_NAME_LEN];
	u32			site;
	/* RTNL */
	struct net_device	*dev;
	netdevice_tracker	tracker;
	bool			primed;		/* rx_last/tx_last/rate_ns valid */
	u64			rate_ns;
	u64			rx_last;
	u64			tx_last;
	struct of_ctr		bytes, crc, los, fec_bits, fec_blocks;
	u8			eeprom[OF_PG_N][SFP_DOM_PAGE_LEN];
	bool			dom_have;	/* dom, vdm, dom_ns valid */
	u64			dom_ns;		/* when the EEPROM was read */
	struct sfp_dom		dom;
	struct sfp_vdm		vdm;
	/* the tick work: of_ifaces_collect() writes, of_ifaces_publish() reads */
	struct ofsim_sample	smp;
};

struct of_ifaces {
	struct notifier_block	nb;
	bool			exiting;	/* RTNL; no unbind logs at unload */
	u8			*external;	/* sim->external */
	u32			n;
	struct of_iface		ifs[];
};

static void of_ctr_update(struct of_ctr *c, u64 v)
{
	if (c->have)
		c->acc += v >= c->last ? v - c->last : v;	/* reset: from 0 */
	c->last = v;
	c->have = true;
}

/* ------------------------------------------------------- bind/unbind */

static void of_bind(struct of_iface *f, struct net_device *dev)
{
	ASSERT_RTNL();
	netdev_hold(dev, &f->tracker, GFP_KERNEL);
	f->dev = dev;
	/* a new device: new baselines, the sums go on */
	f->primed = false;
	f->bytes.have = false;
	f->crc.have = false;
	f->los.have = false;
	f->fec_bits.have = false;
	f->fec_blocks.have = false;
	f->dom_have = false;
	pr_info("ifaces: site %s follows %s (ifindex %d)\n",
		f->site_name, dev->name, dev->ifindex);
}

static void of_unbind(struct of_ifaces *x, struct of_iface *f, const char *why)
{
	ASSERT_RTNL();
	if (!x->exiting)
		pr_info("ifaces: site %s: %s %s, link down until it is back\n",
			f->site_name, f->ifname, why);
	netdev_put(f->dev, &f->tracker);
	f->dev = NULL;
	f->primed = false;
}

static int of_netdev_event(struct notifier_block *nb, unsigned long event,
			   void *ptr)
{
	struct of_ifaces *x = container_of(nb, struct of_ifaces, nb);
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	u32 i;

	/* names are per namespace; ifaces= names the initial one's */
	if (!net_eq(dev_net(dev), &init_net))
		return NOTIFY_DONE;
	for (i = 0; i < x->n; i++) {
		struct of_iface *f = &x->ifs[i];
		bool same = !strncmp(dev->name, f->ifname, IFNAMSIZ);

		switch (event) {
		case NETDEV_REGISTER:
		case NETDEV_CHANGENAME:
			if (f->dev == dev && !same)
				of_unbind(x, f, "was renamed");
			else if (!f->dev && same && !x->exiting)
				of_bind(f, dev);
			break;
		case NETDEV_UNREGISTER:
			if (f->dev == dev)
				of_unbind(x, f, "was unregistered");
			break;
		}
	}
	return NOTIFY_DONE;
}

/* ------------------------------------------------------------ reading */

/* As the ethtool core around driver calls (ethnl_ops_begin/complete). */
static int of_ethtool_begin(struct net_device *dev)
{
	int ret = 0;

	if (dev->dev.parent)
		pm_runtime_get_sync(dev->dev.parent);
	if (!netif_device_present(dev) || dev->reg_state != NETREG_REGISTERED)
		ret = -ENODEV;
	else if (dev->ethtool_ops->begin)
		ret = dev->ethtool_ops->begin(dev);
	if (ret && dev->dev.parent)
		pm_runtime_put(dev->dev.parent);
	return ret;
}

static void of_ethtool_complete(struct net_device *dev)
{
	if (dev->ethtool_ops->complete)
		dev->ethtool_ops->complete(dev);
	if (dev->dev.parent)
		pm_runtime_put(dev->dev.parent);
}

/* bit/s from @bytes in @ns; absent (false) when it cannot be a rate */
static bool of_rate(u64 bytes, u64 ns, u64 *bps)
{
	/* bound the quotient below 2^63: mul_u64_u64_div_u64 traps beyond 2^64 */
	if (!ns || div64_u64(bytes, ns) >= (1ULL << 30))
		return false;
	*bps = mul_u64_u64_div_u64(bytes, 8 * NSEC_PER_SEC, ns);
	return true;
}

static void of_read_stats(struct of_iface *f, struct net_device *dev,
			  struct ofsim_sample *s, u64 now)
{
	struct rtnl_link_stats64 st;
	u64 drx, dtx;

	dev_get_stats(dev, &st);
	of_ctr_update(&f->bytes, st.rx_bytes + st.tx_bytes);
	of_ctr_update(&f->crc, st.rx_crc_errors);
	s->bytes = f->bytes.acc;
	s->crc_errors = f->crc.acc;
	s->absent &= ~(OPTIFIBER_ABSENT_BYTES | OPTIFIBER_ABSENT_CRC_ERRORS);
	if (f->primed && st.rx_bytes >= f->rx_last && st.tx_bytes >= f->tx_last) {
		drx = st.rx_bytes - f->rx_last;
		dtx = st.tx_bytes - f->tx_last;
		if (of_rate(max(drx, dtx), now - f->rate_ns, &s->throughput_bps))
			s->absent &= ~OPTIFIBER_ABSENT_THROUGHPUT;
	}
	f->rx_last = st.rx_bytes;
	f->tx_last = st.tx_bytes;
	f->rate_ns = now;
	f->primed = true;
}

static void of_read_link(struct of_iface *f, struct net_device *dev,
			 struct ofsim_sample *s)
{
	s->link_state = netif_running(dev) && netif_carrier_ok(dev) &&
			netif_oper_up(dev) ? OPTIFIBER_LINK_UP :
					     OPTIFIBER_LINK_DOWN;
	of_ctr_update(&f->los, atomic_read(&dev->carrier_down_count));
	s->los_events = f->los.acc;
	s->absent &= ~OPTIFIBER_ABSENT_LOS_EVENTS;
}

/* Link speed; returns the lanes in use (0: unknown). */
static u32 of_read_speed(struct net_device *dev, struct ofsim_sample *s)
{
	struct ethtool_link_ksettings ks;

	if (__ethtool_get_link_ksettings(dev, &ks))
		return 0;
	if (ks.base.speed && ks.base.speed != (u32)SPEED_UNKNOWN) {
		s->capacity_bps = (u64)ks.base.speed * 1000000;
		s->absent &= ~OPTIFIBER_ABSENT_CAPACITY;
	}
	return ks.lanes;
}

/* A FEC counter: the total if the driver set it, else the sum of its lanes. */
static bool of_fec_total(const struct ethtool_fec_stat *st, u64 *out)
{
	u32 i;

	if (st->total != ETHTOOL_STAT_NOT_SET) {
		*out = st->total;
		return true;
	}
	*out = 0;
	for (i = 0; i < ETHTOOL_MAX_LANES; i++) {
		if (st->lanes[i] == ETHTOOL_STAT_NOT_SET)
			break;
		*out += st->lanes[i];
	}
	return i > 0;
}

static void of_read_fec(struct of_iface *f, struct net_device *dev,
			struct ofsim_sample *s)
{
	struct ethtool_fec_stats fs;
	u64 v;

	if (!dev->ethtool_ops->get_fec_stats)
		return;
	/* what the driver leaves NOT_SET, it does not count */
	ethtool_stats_init((u64 *)&fs, sizeof(fs) / sizeof(u64));
	dev->ethtool_ops->get_fec_stats(dev, &fs);
	if (of_fec_total(&fs.corrected_bits, &v)) {
		of_ctr_update(&f->fec_bits, v);
		s->fec_corrected_bits = f->fec_bits.acc;
		s->absent &= ~OPTIFIBER_ABSENT_FEC_CORRECTED;
	}
	if (of_fec_total(&fs.uncorrectable_blocks, &v)) {
		of_ctr_update(&f->fec_blocks, v);
		s->fec_uncorrectable_blocks = f->fec_blocks.acc;
		s->absent &= ~OPTIFIBER_ABSENT_FEC_UNCORRECTABLE;
	}
}

/*
 * The flat layouts of the legacy module EEPROM calls: SFF-8472 puts A2h
 * at 256 (after A0h), SFF-8636 page 00h's upper half at 128.  Other pages
 * are not addressable there.
 */
static int of_eeprom_legacy(struct net_device *dev,
			    const struct ethtool_module_eeprom *req)
{
	const struct ethtool_ops *ops = dev->ethtool_ops;
	struct ethtool_modinfo mi = {};
	struct ethtool_eeprom ee = { .cmd = ETHTOOL_GMODULEEEPROM };
	int ret;

	if (!ops->get_module_info || !ops->get_module_eeprom || req->page ||
	    req->bank)
		return -EOPNOTSUPP;
	ret = ops->get_module_info(dev, &mi);
	if (ret)
		return ret;
	ee.offset = req->offset;
	if (req->i2c_address == OF_EEPROM_A2) {
		if (mi.type != ETH_MODULE_SFF_8472)
			return -EOPNOTSUPP;
		ee.offset += ETH_MODULE_SFF_8079_LEN;
	}
	ee.len = req->length;
	if (ee.offset + ee.len > mi.eeprom_len)
		return -EOPNOTSUPP;
	ret = ops->get_module_eeprom(dev, &ee, req->data);
	return ret ? ret : (int)req->length;
}

/* 128 bytes of module EEPROM, as ethtool's module-eeprom request reads them. */
static int of_eeprom_read(struct net_device *dev, u8 addr, u8 page, u32 offset,
			  u8 *buf)
{
	struct ethtool_module_eeprom req = {
		.offset = offset, .length = SFP_DOM_PAGE_LEN, .page = page,
		.i2c_address = addr, .data = buf,
	};
	int ret = -EOPNOTSUPP;

	if (dev->sfp_bus)
		ret = sfp_get_module_eeprom_by_page(dev->sfp_bus, &req, NULL);
	else if (dev->ethtool_ops->get_module_eeprom_by_page)
		ret = dev->ethtool_ops->get_module_eeprom_by_page(dev, &req,
								  NULL);
	if (ret == -EOPNOTSUPP)
		ret = of_eeprom_legacy(dev, &req);
	if (ret < 0)
		return ret;
	return ret == SFP_DOM_PAGE_LEN ? 0 : -EIO;
}

/* CMIS VDM: page 2Fh, then the descriptor and sample pages it advertises */
static void of_read_vdm(struct net_device *dev, u8 (*pg)[SFP_DOM_PAGE_LEN],
			struct sfp_dom_raw *raw)
{
	u32 g, groups;

	if (!(raw->upper01[142 - 128] & 0x40) ||
	    of_eeprom_read(dev, OF_EEPROM_A0, 0x2f, 128, pg[OF_PG_2F]))
		return;
	raw->upper2f = pg[OF_PG_2F];
	groups = (raw->upper2f[0] & 0x03) + 1;
	for (g = 0; g < groups; g++) {
		if (!of_eeprom_read(dev, OF_EEPROM_A0, 0x20 + g, 128,
				    pg[OF_PG_VDM_DESC + g]))
			raw->vdm_desc[g] = pg[OF_PG_VDM_DESC + g];
		if (!of_eeprom_read(dev, OF_EEPROM_A0, 0x24 + g, 128,
				    pg[OF_PG_VDM_SMP + g]))
			raw->vdm_samples[g] = pg[OF_PG_VDM_SMP + g];
	}
}

/* Reads the module EEPROM into f->dom and f->vdm. */
static void of_read_eeprom(struct of_iface *f, struct net_device *dev,
			   u32 lanes)
{
	u8 (*pg)[SFP_DOM_PAGE_LEN] = f->eeprom;
	struct sfp_dom_raw raw = {};

	if (of_eeprom_read(dev, OF_EEPROM_A0, 0, 0, pg[OF_PG_LOWER]))
		goto decode;	/* no module EEPROM: all absent */
	raw.lower = pg[OF_PG_LOWER];
	switch (raw.lower[0]) {
	case 0x03:	/* SFP: diagnostics at A2h */
		if (!of_eeprom_read(dev, OF_EEPROM_A2, 0, 0, pg[OF_PG_A2]))
			raw.a2 = pg[OF_PG_A2];
		break;
	case 0x0c:
	case 0x0d:
	case 0x11:	/* SFF-8636: what page 00h advertises */
		if (!of_eeprom_read(dev, OF_EEPROM_A0, 0, 128, pg[OF_PG_00]))
			raw.upper00 = pg[OF_PG_00];
		break;
	case 0x18:
	case 0x19:
	case 0x1e:	/* CMIS: pages 01h and 11h and VDM, unless flat memory */
		if (raw.lower[2] & 0x80)
			break;
		if (!of_eeprom_read(dev, OF_EEPROM_A0, 0x01, 128, pg[OF_PG_01]))
			raw.upper01 = pg[OF_PG_01];
		if (!of_eeprom_read(dev, OF_EEPROM_A0, 0x11, 128, pg[OF_PG_11]))
			raw.upper11 = pg[OF_PG_11];
		if (raw.upper01)
			of_read_vdm(dev, pg, &raw);
		break;
	}
decode:
	sfp_dom_decode(&raw, lanes, &f->dom);
	sfp_dom_decode_vdm(&raw, lanes, &f->vdm);
}

static void of_read_dom(struct of_iface *f, struct net_device *dev,
			struct ofsim_sample *s, u32 lanes, u64 now)
{
	if (!f->dom_have ||
	    now - f->dom_ns >= (u64)eeprom_interval_s * NSEC_PER_SEC) {
		of_read_eeprom(f, dev, lanes);
		f->dom_ns = now;
		f->dom_have = true;
	}
	s->temperature_mc = f->dom.temperature_mc;
	s->laser_bias_ua = f->dom.laser_bias_ua;
	s->tx_power_cdbm = f->dom.tx_power_cdbm;
	s->rx_power_cdbm = f->dom.rx_power_cdbm;
	s->pre_fec_ber_e18 = f->vdm.pre_fec_ber_e18;
	s->osnr_cdb = f->vdm.osnr_cdb;
	s->chromatic_dispersion_ps_nm = f->vdm.cd_ps_nm;
	s->absent = (s->absent & ~(OF_DOM_ABSENT | OF_VDM_ABSENT)) |
		    (f->dom.absent & OF_DOM_ABSENT) |
		    (f->vdm.absent & OF_VDM_ABSENT);
}

static void of_iface_sample(struct of_iface *f, u64 now)
{
	struct ofsim_sample *s = &f->smp;
	struct net_device *dev = f->dev;
	u32 lanes;

	ASSERT_RTNL();
	*s = (struct ofsim_sample){
		.link_state = OPTIFIBER_LINK_DOWN,
		.absent = OPTIFIBER_ABSENT_ALL & ~OPTIFIBER_ABSENT_LINK_STATE,
	};
	if (!dev)
		return;
	of_read_stats(f, dev, s, now);
	of_read_link(f, dev, s);
	if (of_ethtool_begin(dev))
		return;
	lanes = of_read_speed(dev, s);
	of_read_fec(f, dev, s);
	of_read_dom(f, dev, s, lanes, now);
	of_ethtool_complete(dev);
}

void of_ifaces_collect(struct of_ifaces *x)
{
	u32 i;

	/* one interface per RTNL hold: slow EEPROM reads do not pile up */
	for (i = 0; i < x->n; i++) {
		rtnl_lock();
		of_iface_sample(&x->ifs[i], ktime_get_ns());
		rtnl_unlock();
	}
}

void of_ifaces_publish(struct of_ifaces *x, struct ofsim *sim, u64 now_ns,
		       u64 sim_time_s)
{
	u32 i;

	for (i = 0; i < x->n; i++) {
		struct of_iface *f = &x->ifs[i];

		f->smp.sample_seq = sim->tick;
		f->smp.update_time_ns = now_ns;
		f->smp.sim_time_s = sim_time_s;
		f->smp.site_flags = OPTIFIBER_SITE_F_INTERFACE;
		ofsim_page_publish(ofsim_site_page(sim, f->site), &f->smp);
	}
}

/* -------------------------------------------------------- load/unload */

static int of_ifaces_parse(struct of_ifaces *x, char *p, struct ofsim *sim)
{
	char *tok, *colon;
	u32 i, j;

	while ((tok = strsep(&p, ",")) != NULL) {
		struct of_iface *f = &x->ifs[x->n];

		colon = strchr(tok, ':');
		if (!colon) {
			pr_err("ifaces: '%s' is not IFNAME:SITE\n", tok);
			return -EINVAL;
		}
		*colon = '\0';
		if (!dev_valid_name(tok)) {
			pr_err("ifaces: '%s' is not a valid interface name\n", tok);
			return -EINVAL;
		}
		for (i = 0; i < sim->p.nsites; i++)
			if (!strncmp(ofsim_site_page(sim, i)->name, colon + 1,
				     OPTIFIBER_SITE_NAME_LEN))
				break;
		if (i == sim->p.nsites) {
			pr_err("ifaces: no site '%s' among sites=\n", colon + 1);
			return -EINVAL;
		}
		if (x->external[i]) {
			pr_err("ifaces: site '%s' is mapped twice\n", colon + 1);
			return -EINVAL;
		}
		for (j = 0; j < x->n; j++) {
			if (!strcmp(x->ifs[j].ifname, tok)) {
				pr_err("ifaces: interface '%s' is mapped twice\n", tok);
				return -EINVAL;
			}
		}
		strscpy(f->ifname, tok, IFNAMSIZ);
		strscpy(f->site_name, colon + 1, OPTIFIBER_SITE_NAME_LEN);
		f->site = i;
		x->external[i] = 1;
		x->n++;
	}
	return 0;
}

int of_ifaces_create(const char *spec, struct ofsim *sim,
		     struct of_ifaces **out)
{
	struct of_ifaces *x;
	char *buf = NULL;
	u32 n = 1;
	const char *c;
	int ret;

	for (c = spec; *c; c++)
		n += *c == ',';
	if (n > sim->p.nsites) {
		pr_err("ifaces: %u entries for %u sites\n", n, sim->p.nsites);
		return -EINVAL;
	}
	x = kvzalloc(struct_size(x, ifs, n), GFP_KERNEL);
	if (!x)
		return -ENOMEM;
	x->external = kvzalloc(sim->p.nsites, GFP_KERNEL);
	buf = kstrdup(spec, GFP_KERNEL);
	ret = -ENOMEM;
	if (!x->external || !buf)
		goto err;
	ret = of_ifaces_parse(x, buf, sim);
	if (ret)
		goto err;
	kfree(buf);

	sim->external = x->external;
	sim->dir_flags = OPTIFIBER_DIR_F_LIVE | OPTIFIBER_DIR_F_INTERFACE |
			 (x->n < sim->p.nsites ? OPTIFIBER_DIR_F_SIMULATED : 0);
	/* binds the interfaces that exist already (NETDEV_REGISTER replay) */
	x->nb.notifier_call = of_netdev_event;
	ret = register_netdevice_notifier(&x->nb);
	if (ret) {
		sim->external = NULL;
		buf = NULL;
		goto err;
	}
	*out = x;
	return 0;

err:
	kfree(buf);
	kvfree(x->external);
	kvfree(x);
	return ret;
}

void of_ifaces_destroy(struct of_ifaces *x)
{
	u32 i;

	if (!x)
		return;
	rtnl_lock();
	x->exiting = true;
	rtnl_unlock();
	/* replays NETDEV_UNREGISTER: every bound device is released there */
	unregister_netdevice_notifier(&x->nb);
	rtnl_lock();
	for (i = 0; i < x->n; i++)
		if (x->ifs[i].dev)
			of_unbind(x, &x->ifs[i], "");
	rtnl_unlock();
	kvfree(x->external);
	kvfree(x);
}
