/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Forced first include of the CONFIG_NET=n compile test (make module-nonet):
 * optifiber.ko as a kernel without networking builds it (ifaces= stubbed
 * out by optifiber_iface.h), on a kernel tree that has networking.
 */
#undef CONFIG_NET
#undef CONFIG_NET_MODULE
