// SPDX-License-Identifier: GPL-2.0
/*
 * ofnic.ko: a test-only network device, "ofnic0", for optifiber.ko's
 * interface source (ifaces=ofnic0:SITE) under QEMU.  Debian's kernels do not
 * build netdevsim; this device provides exactly the ethtool operations the
 * collector calls, with known answers:
 *   get_link_ksettings         100000 Mb/s, 4 lanes, full duplex
 *   get_fec_stats              corrected_bits total: +1000 per call;
 *                              uncorrectable_blocks: lanes 0..1 only (no
 *                              total), +1 each per call; corrected_blocks
 *                              left NOT_SET (not counted)
 *   get_module_eeprom_by_page  an SFP (SFF-8472): A0h identifier 03h,
 *                              diagnostics implemented and internally
 *                              calibrated; A2h 35.5 degC, bias 6 mA,
 *                              tx 0.5012 mW, rx 0.1 mW;
 *                              with cmis=1 a coherent QSFP-DD (CMIS):
 *                              45 degC, 4 lanes bias 8 mA, tx 1 mW, rx
 *                              0.5012 mW .. 0.1 mW; VDM group 1: pre-FEC
 *                              BER 1.5e-3 and OSNR 24.5 dB on media lane
 *                              1; group 2 (page 25h) a short read, so its
 *                              CD observable is unreadable
 * Lower-page reads are counted in the read-only parameter eeprom_reads.
 * Transmitted frames are counted and dropped.  The carrier follows
 * open/stop.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/string.h>
#include <linux/u64_stats_sync.h>

struct ofnic_priv {
	struct u64_stats_sync	syncp;
	u64			tx_packets;
	u64			tx_bytes;
	u64			fec_calls;	/* RTNL (ethtool callers) */
};

static struct net_device *ofnic_dev;

static bool cmis;
module_param(cmis, bool, 0444);
MODULE_PARM_DESC(cmis, "present a coherent CMIS module instead of an SFP");

/* RTNL (ethtool callers); read by the VM test through sysfs */
static unsigned int eeprom_reads;
module_param(eeprom_reads, uint, 0444);
MODULE_PARM_DESC(eeprom_reads, "module EEPROM lower-page reads so far");

static netdev_tx_t ofnic_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct ofnic_priv *p = netdev_priv(dev);

	u64_stats_update_begin(&p->syncp);
	p->tx_packets++;
	p->tx_bytes += skb->len;
	u64_stats_update_end(&p->syncp);
	dev_kfree_skb(skb);
	return NETDEV_TX_OK;
}

static void ofnic_get_stats64(struct net_device *dev,
			      struct rtnl_link_stats64 *st)
{
	struct ofnic_priv *p = netdev_priv(dev);
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&p->syncp);
		st->tx_packets = p->tx_packets;
		st->tx_bytes = p->tx_bytes;
	} while (u64_stats_fetch_retry(&p->syncp, start));
}

static int ofnic_open(struct net_device *dev)
{
	netif_carrier_on(dev);
	netif_start_queue(dev);
	return 0;
}

static int ofnic_stop(struct net_device *dev)
{
	netif_stop_queue(dev);
	netif_carrier_off(dev);
	return 0;
}

static const struct net_device_ops ofnic_netdev_ops = {
	.ndo_open		= ofnic_open,
	.ndo_stop		= ofnic_stop,
	.ndo_start_xmit		= ofnic_xmit,
	.ndo_get_stats64	= ofnic_get_stats64,
};

static int ofnic_get_link_ksettings(struct net_device *dev,
				    struct ethtool_link_ksettings *ks)
{
	ks->base.speed = SPEED_100000;
	ks->base.duplex = DUPLEX_FULL;
	ks->base.port = PORT_FIBRE;
	ks->lanes = 4;
	return 0;
}

static void ofnic_get_fec_stats(struct net_device *dev,
				struct ethtool_fec_stats *fs)
{
	struct ofnic_priv *p = netdev_priv(dev);

	p->fec_calls++;
	fs->corrected_bits.total = 1000 * p->fec_calls;
	fs->uncorrectable_blocks.lanes[0] = p->fec_calls;
	fs->uncorrectable_blocks.lanes[1] = p->fec_calls;
}

/* SFF-8472 A0h byte 0 identifier, byte 92 diagnostic monitoring type */
#define OFNIC_SFP_ID		0x03
#define OFNIC_DDM_INT_CAL	0x60	/* implemented, internally calibrated */

static void ofnic_put_be16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* SFF-8472 A0h and A2h */
static int ofnic_sfp_page(const struct ethtool_module_eeprom *req, u8 *page)
{
	if (req->page || req->bank)
		return -EINVAL;
	if (req->i2c_address == 0x50) {
		page[0] = OFNIC_SFP_ID;
		page[92] = OFNIC_DDM_INT_CAL;
	} else if (req->i2c_address == 0x51) {
		ofnic_put_be16(page + 96, 35 * 256 + 128);	/* 35.5 degC */
		ofnic_put_be16(page + 100, 3000);		/* 2 uA: 6 mA */
		ofnic_put_be16(page + 102, 5012);		/* 0.1 uW: -3.00 dBm */
		ofnic_put_be16(page + 104, 1000);		/* -10.00 dBm */
	} else {
		return -EINVAL;
	}
	return 256;
}

/*
 * CMIS (offsets in kernel/common/sfp_dom.c): lower page, pages 01h, 11h,
 * 2Fh and VDM groups 1-2 (20h/24h, 21h/25h); 25h is read short.
 */
static int ofnic_cmis_page(const struct ethtool_module_eeprom *req, u8 *page)
{
	static const u16 rx[4] = { 5012, 3162, 1995, 1000 };
	int i;

	if (req->i2c_address != 0x50 || req->bank)
		return -EINVAL;
	switch (req->page) {
	case 0x00:
		page[0] = 0x18;				/* QSFP-DD, paged */
		ofnic_put_be16(page + 14, 45 * 256);	/* 45 degC */
		break;
	case 0x01:
		page[142] = 0x40;			/* VDM supported */
		page[159] = 0x01;			/* temperature monitor */
		page[160] = 0x07;			/* bias x1, tx, rx power */
		break;
	case 0x11:
		for (i = 0; i < 4; i++) {
			ofnic_put_be16(page + 154 + 2 * i, 10000);	/* 0 dBm */
			ofnic_put_be16(page + 170 + 2 * i, 4000);	/* 8 mA */
			ofnic_put_be16(page + 186 + 2 * i, rx[i]);
		}
		break;
	case 0x2f:
		page[128] = 0x01;			/* groups 1-2 */
		break;
	case 0x20:					/* media lane 1 */
		page[128] = 0x10;
		page[129] = 15;				/* pre-FEC BER, current */
		page[130] = 0x10;
		page[131] = 139;			/* OSNR */
		break;
	case 0x24:
		ofnic_put_be16(page + 128, 18 << 11 | 1500);	/* 1.5e-3 */
		ofnic_put_be16(page + 130, 245);		/* 24.5 dB */
		break;
	case 0x21:
		page[128] = 0x10;
		page[129] = 134;			/* CD, short link */
		break;
	case 0x25:
		return 128 + 64;			/* a short read */
	default:
		return -EINVAL;
	}
	return 256;
}

static int ofnic_get_module_eeprom_by_page(struct net_device *dev,
					   const struct ethtool_module_eeprom *req,
					   struct netlink_ext_ack *extack)
{
	u8 page[256] = {};
	int end;

	if (req->offset + req->length > 256)
		return -EINVAL;
	if (!req->page && !req->offset && req->i2c_address == 0x50)
		eeprom_reads++;
	end = cmis ? ofnic_cmis_page(req, page) : ofnic_sfp_page(req, page);
	if (end < 0)
		return end;
	if (req->offset + req->length <= end) {
		memcpy(req->data, page + req->offset, req->length);
		return req->length;
	}
	if (req->offset >= end)
		return -EINVAL;
	memcpy(req->data, page + req->offset, end - req->offset);
	return end - req->offset;
}

static const struct ethtool_ops ofnic_ethtool_ops = {
	.get_link			= ethtool_op_get_link,
	.get_link_ksettings		= ofnic_get_link_ksettings,
	.get_fec_stats			= ofnic_get_fec_stats,
	.get_module_eeprom_by_page	= ofnic_get_module_eeprom_by_page,
};

static int __init ofnic_init(void)
{
	struct net_device *dev;
	int ret;

	dev = alloc_etherdev(sizeof(struct ofnic_priv));
	if (!dev)
		return -ENOMEM;
	strscpy(dev->name, "ofnic%d", IFNAMSIZ);
	dev->netdev_ops = &ofnic_netdev_ops;
	dev->ethtool_ops = &ofnic_ethtool_ops;
	u64_stats_init(&((struct ofnic_priv *)netdev_priv(dev))->syncp);
	eth_hw_addr_random(dev);
	netif_carrier_off(dev);
	ret = register_netdev(dev);
	if (ret) {
		free_netdev(dev);
		return ret;
	}
	ofnic_dev = dev;
	return 0;
}

static void __exit ofnic_exit(void)
{
	unregister_netdev(ofnic_dev);
	free_netdev(ofnic_dev);
}

module_init(ofnic_init);
module_exit(ofnic_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test-only NIC with FEC statistics and an SFP's EEPROM, for optifiber.ko");
