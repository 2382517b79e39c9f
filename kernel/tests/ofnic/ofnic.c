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
 *                              tx 0.5012 mW, rx 0.1 mW
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

static int ofnic_get_module_eeprom_by_page(struct net_device *dev,
					   const struct ethtool_module_eeprom *req,
					   struct netlink_ext_ack *extack)
{
	u8 page[256] = {};

	if (req->page || req->bank || req->offset + req->length > 256)
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
	memcpy(req->data, page + req->offset, req->length);
	return req->length;
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
