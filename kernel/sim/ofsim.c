// SPDX-License-Identifier: GPL-2.0
/*
 * OptiFiber simulation core: traffic, optics, faults and page publishing.
 *
 * Integer arithmetic only (this file is also built into the kernel module):
 * fractions are parts per million (ppm) or Q16/Q40 fixed point; optical
 * values are in the page's units (0.01 dB, 0.01 dBm, 0.001 degC, uA).
 * sim/README.md describes the model and its calibration.
 */
#include "ofsim_priv.h"

/*
 * Overflow bounds of the six ofsim_mul_div() calls (the quotient must stay
 * below 2^64 = 1.84e19; see ofsim_compat.h).  From the inputs' ranges:
 *  - post-FEC x = pre * 2^16 / limit: pre < 40 limit (tested first), so
 *    x < 40 * 2^16;
 *  - post-FEC x8 * 1e6 / 2^16: x < 40 * 2^16 gives x2 < 1600 * 2^16,
 *    x4 < 2.56e6 * 2^16, x8 < 6.5536e12 * 2^16, so the quotient is
 *    < 6.5536e18: the tightest, 2.8x below 2^64 (tested at pre = 40 limit
 *    - 1 by sim_physics_test.c muldiv_limits);
 *  - errors bits * ber / 1e18: ber <= 0.5e18 (a ratio), so <= bits / 2;
 *  - growth g * (rate * dt) / (86400 * 1e6): rate * dt <= 30000 * 3600 <
 *    86400 * 1e6, so below g, and g < 101 * 2^40 (capped at 100 * 2^40);
 *  - offered * ppm / 1e6: offered < 9.3e11 bit/s * 101, ppm < 2^31 + 1.3e6,
 *    so < 2.1e17;
 *  - fault threshold rate * 2^63 / 86400000: rate < 86400000 (tested
 *    first), so < 2^63.
 */

#define OFSIM_GOLDEN	0x9e3779b97f4a7c15ULL

/* ---------------------------------------------------------------- PRNG */

/* splitmix64 (Steele, Lea, Flood 2014): one u64 of state per stream. */
static u64 ofsim_next(u64 *state)
{
	u64 z = (*state += OFSIM_GOLDEN);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform integer in [lo, hi]; the modulo bias is < 2^-40 for our ranges. */
static s64 ofsim_range(u64 *state, s64 lo, s64 hi)
{
	return lo + (s64)(ofsim_next(state) % (u64)(hi - lo + 1));
}

/*
 * Approximately normal deviate: the sum of four uniform 16-bit values,
 * centred.  Range +-131070, standard deviation 37837 (65536 * sqrt(1/3)).
 */
#define OFSIM_GAUSS_SD	37837
static s64 ofsim_gauss(u64 *state)
{
	u64 r = ofsim_next(state);

	return (s64)((r & 0xffff) + ((r >> 16) & 0xffff) +
		     ((r >> 32) & 0xffff) + (r >> 48)) - 2 * 65535;
}

/* ------------------------------------------------------------- tables */

/*
 * sin(2 pi i / 256) * 32767, rounded.  Generated with
 *   [round(math.sin(2 * math.pi * i / 256) * 32767) for i in range(256)]
 */
static const s16 ofsim_sin_q15[256] = {
	0, 804, 1608, 2410, 3212, 4011, 4808, 5602,
	6393, 7179, 7962, 8739, 9512, 10278, 11039, 11793,
	12539, 13279, 14010, 14732, 15446, 16151, 16846, 17530,
	18204, 18868, 19519, 20159, 20787, 21403, 22005, 22594,
	23170, 23731, 24279, 24811, 25329, 25832, 26319, 26790,
	27245, 27683, 28105, 28510, 28898, 29268, 29621, 29956,
	30273, 30571, 30852, 31113, 31356, 31580, 31785, 31971,
	32137, 32285, 32412, 32521, 32609, 32678, 32728, 32757,
	32767, 32757, 32728, 32678, 32609, 32521, 32412, 32285,
	32137, 31971, 31785, 31580, 31356, 31113, 30852, 30571,
	30273, 29956, 29621, 29268, 28898, 28510, 28105, 27683,
	27245, 26790, 26319, 25832, 25329, 24811, 24279, 23731,
	23170, 22594, 22005, 21403, 20787, 20159, 19519, 18868,
	18204, 17530, 16846, 16151, 15446, 14732, 14010, 13279,
	12539, 11793, 11039, 10278, 9512, 8739, 7962, 7179,
	6393, 5602, 4808, 4011, 3212, 2410, 1608, 804,
	0, -804, -1608, -2410, -3212, -4011, -4808, -5602,
	-6393, -7179, -7962, -8739, -9512, -10278, -11039, -11793,
	-12539, -13279, -14010, -14732, -15446, -16151, -16846, -17530,
	-18204, -18868, -19519, -20159, -20787, -21403, -22005, -22594,
	-23170, -23731, -24279, -24811, -25329, -25832, -26319, -26790,
	-27245, -27683, -28105, -28510, -28898, -29268, -29621, -29956,
	-30273, -30571, -30852, -31113, -31356, -31580, -31785, -31971,
	-32137, -32285, -32412, -32521, -32609, -32678, -32728, -32757,
	-32767, -32757, -32728, -32678, -32609, -32521, -32412, -32285,
	-32137, -31971, -31785, -31580, -31356, -31113, -30852, -30571,
	-30273, -29956, -29621, -29268, -28898, -28510, -28105, -27683,
	-27245, -26790, -26319, -25832, -25329, -24811, -24279, -23731,
	-23170, -22594, -22005, -21403, -20787, -20159, -19519, -18868,
	-18204, -17530, -16846, -16151, -15446, -14732, -14010, -13279,
	-12539, -11793, -11039, -10278, -9512, -8739, -7962, -7179,
	-6393, -5602, -4808, -4011, -3212, -2410, -1608, -804,
};

/* Sine of a phase given as a fraction of the period in Q32, result Q15. */
static s32 ofsim_sin(u32 phase)
{
	u32 i = phase >> 24;
	s32 a = ofsim_sin_q15[i];
	s32 b = ofsim_sin_q15[(i + 1) & 255];
	s32 frac = (phase >> 8) & 0xffff;

	return a + (((b - a) * frac) >> 16);
}

/* Phase (Q32 of @period) of @t seconds; @t may be any u64. */
static u32 ofsim_phase(u64 t, u32 period)
{
	return (u32)(((t % period) << 32) / period);
}

/*
 * Pre-FEC BER * 1e18 for Q = 0.00, 0.05, ... 18.00 dB (361 entries), where
 * BER = 0.5 * erfc(Q / sqrt(2)) and Q = 10^(Q_dB / 20).  Generated with
 *   q = 10 ** (i * 0.05 / 20)
 *   round(0.5 * math.erfc(q / math.sqrt(2)) * 1e18) for i in range(361)
 * and checked strictly decreasing (the smallest step is 436).
 */
#define OFSIM_BER_STEP_MDB	50
#define OFSIM_BER_N		361
static const u64 ofsim_ber_e18[OFSIM_BER_N] = {
	158655253931457088ULL, 157262373903036544ULL, 155869586805368384ULL,
	154476986536928832ULL, 153084668045501760ULL, 151692727320610720ULL,
	150301261385348832ULL, 148910368287595456ULL, 147520147090606592ULL,
	146130697862966400ULL, 144742121667887872ULL, 143354520551849520ULL,
	141967997532557536ULL, 140582656586218464ULL, 139198602634113792ULL,
	137815941528461488ULL, 136434780037555040ULL, 135055225830167216ULL,
	133677387459207344ULL, 132301374344621552ULL, 130927296755524560ULL,
	129555265791552048ULL, 128185393363424656ULL, 126817792172711168ULL,
	125452575690783504ULL, 124089858136952608ULL, 122729754455776528ULL,
	121372380293531808ULL, 120017851973840688ULL, 118666286472444848ULL,
	117317801391119808ULL, 115972514930721824ULL, 114630545863361552ULL,
	113292013503698496ULL, 111957037679350640ULL, 110625738700414864ULL,
	109298237328093888ULL, 107974654742426320ULL, 106655112509116768ULL,
	105339732545464480ULL, 104028637085388640ULL, 102721948643550000ULL,
	101419789978568768ULL, 100122284055340496ULL, 98829554006450880ULL,
	97541723092693040ULL, 96258914662690368ULL, 94981252111630352ULL,
	93708858839114208ULL, 92441858206129296ULL, 91180373491152000ULL,
	89924527845389936ULL, 88674444247173040ULL, 87430245455504624ULL,
	86192053962784736ULL, 84959991946718848ULL, 83734181221426608ULL,
	82514743187766240ULL, 81301798782892256ULL, 80095468429063808ULL,
	78895871981724416ULL, 77703128676873520ULL, 76517357077752544ULL,
	75338675020868992ULL, 74167199561384352ULL, 73003046917891776ULL,
	71846332416612560ULL, 70697170435040440ULL, 69555674345064528ULL,
	68421956455604768ULL, 67296127954792800ULL, 66178298851734440ULL,
	65068577917891088ULL, 63967072628118832ULL, 62873889101405376ULL,
	61789132041346648ULL, 60712904676407288ULL, 59645308700008728ULL,
	58586444210492344ULL, 57536409651005848ULL, 56495301749361664ULL,
	55463215457919336ULL, 54440243893543856ULL, 53426478277694408ULL,
	52422007876699000ULL, 51426919942271720ULL, 50441299652331032ULL,
	49465230052179080ULL, 48498791996102072ULL, 47542064089455424ULL,
	46595122631295632ULL, 45658041557624576ULL, 44730892385311360ULL,
	43813744156758984ULL, 42906663385382976ULL, 42009714001971416ULL,
	41122957301995216ULL, 40246451893939712ULL, 39380253648727296ULL,
	38524415650304432ULL, 37678988147463408ULL, 36844018506972392ULL,
	36019551168086536ULL, 35205627598512144ULL, 34402286251898624ULL,
	33609562526929600ULL, 32827488728087564ULL, 32056094028163512ULL,
	31295404432584840ULL, 30545442745632684ULL, 29806228538619852ULL,
	29077778120099944ULL, 28360104508176676ULL, 27653217404981940ULL,
	26957123173389560ULL, 26271824816030380ULL, 25597321956672812ULL,
	24933610824031476ULL, 24280684238064140ULL, 23638531598815768ULL,
	23007138877866036ULL, 22386488612434248ULL, 21776559902193284ULL,
	21177328408841180ULL, 20588766358476608ULL, 20010842546821164ULL,
	19443522347328184ULL, 18886767722214548ULL, 18340537236448568ULL,
	17804786074723300ULL, 17279466061440496ULL, 16764525683727158ULL,
	16259910117501688ULL, 15765561256603032ULL, 15281417744991574ULL,
	14807415012025764ULL, 14343485310814288ULL, 13889557759638300ULL,
	13445558386433842ULL, 13011410176318758ULL, 12587033122144620ULL,
	12172344278047298ULL, 11767257815966190ULL, 11371685085095512ULL,
	10985534674226302ULL, 10608712476932332ULL, 10241121759547146ULL,
	9882663231874660ULL, 9533235120569502ULL, 9192733245118380ULL,
	8861051096347879ULL, 8538079917378722ULL, 8223708786941340ULL,
	7917824704961661ULL, 7620312680321717ULL, 7331055820693450ULL,
	7049935424339752ULL, 6776831073771560ULL, 6511620731145051ULL,
	6254180835278495ULL, 6004386400163566ULL, 5762111114842074ULL,
	5527227444514661ULL, 5299606732744305ULL, 5079119304614108ULL,
	4865634570695136ULL, 4659021131677305ULL, 4459146883513622ULL,
	4265879122925198ULL, 4079084653113038ULL, 3898629889519919ULL,
	3724380965485122ULL, 3556203837632942ULL, 3393964390835544ULL,
	3237528542590392ULL, 3086762346652222ULL, 2941532095760200ULL,
	2801704423301704ULL, 2667146403755152ULL, 2537725651756251ULL,
	2413310419633866ULL, 2293769693264068ULL, 2178973286094202ULL,
	2068791931191496ULL, 1963097371174944ULL, 1861762445892888ULL,
	1764661177713400ULL, 1671668854299411ULL, 1582662108745638ULL,
	1497518996960143ULL, 1416119072179128ULL, 1338343456510020ULL,
	1264074909404432ULL, 1193197892969486ULL, 1125598634033233ULL,
	1061165182887373ULL, 999787468638133ULL, 941357351104141ULL,
	885768669208219ULL, 832917285818320ULL, 782701129001274ULL,
	735020229661509ULL, 689776755545563ULL, 646875041601904ULL,
	606221616694212ULL, 567725226675043ULL, 531296853835393ULL,
	496849732754330ULL, 464299362581272ULL, 433563515791921ULL,
	404562243467024ULL, 377217877151122ULL, 351455027356266ULL,
	327200578783155ULL, 304383682339469ULL, 282935744042044ULL,
	262790410896187ULL, 243883553851677ULL, 226153247940858ULL,
	209539749709714ULL, 193985472057861ULL, 179434956608000ULL,
	165834843729545ULL, 153133840344819ULL, 141282685649418ULL,
	130234114881079ULL, 119942821273613ULL, 110365416334178ULL,
	101460388583412ULL, 93188060898660ULL, 85510546600768ULL,
	78391704424649ULL, 71797092513057ULL, 65693921571837ULL,
	60051007323161ULL, 54838722391189ULL, 50028947751999ULL,
	45595023876664ULL, 41511701692977ULL, 37755093487613ULL,
	34302623866415ULL, 31132980886096ULL, 28226067465960ULL,
	25562953183301ULL, 23125826550910ULL, 20897947869768ULL,
	18863602744396ULL, 17008056342612ULL, 15317508475644ULL,
	13779049568578ULL, 12380617585205ULL, 11110955965264ULL,
	9959572626172ULL, 8916700075286ULL, 7973256672918ULL,
	7120809080479ULL, 6351535922438ULL, 5658192685237ULL,
	5034077870895ULL, 4473000417822ULL, 3969248396343ULL,
	3517558981629ULL, 3113089702163ULL, 2751390957533ULL,
	2428379795290ULL, 2140314932776ULL, 1883773006311ULL,
	1655626026865ULL, 1453020018344ULL, 1273354811959ULL,
	1114264967682ULL, 973601791710ULL, 849416416947ULL,
	739943911947ULL, 643588382437ULL, 558909028451ULL,
	484607119271ULL, 419513847792ULL, 362579025562ULL,
	312860579543ULL, 269514811737ULL, 231787382991ULL,
	199004982719ULL, 170567646795ULL, 145941686593ULL,
	124653192941ULL, 106282079689ULL, 90456632619ULL,
	76848530546ULL, 65168306618ULL, 55161219084ULL,
	46603502087ULL, 39298968333ULL, 33075936868ULL,
	27784460522ULL, 23293828950ULL, 19490324553ULL,
	16275209903ULL, 13562926605ULL, 11279486826ULL,
	9361039991ULL, 7752598319ULL, 6406906123ULL,
	5283438843ULL, 4347518938ULL, 3569536735ULL,
	2924265365ULL, 2390259784ULL, 1949330807ULL,
	1586085862ULL, 1287528948ULL, 1042713011ULL,
	842438588ULL, 678993204ULL, 545926570ULL,
	437857137ULL, 350306069ULL, 279555088ULL,
	222525093ULL, 176672773ULL, 139902781ULL,
	110493328ULL, 87033306ULL, 68369315ULL,
	53561128ULL, 41844389ULL, 32599421ULL,
	25325244ULL, 19617979ULL, 15152958ULL,
	11669938ULL, 8960927ULL, 6860184ULL,
	5236027ULL, 3984154ULL, 3022199ULL,
	2285321ULL, 1722633ULL, 1294326ULL,
	969357ULL, 723598ULL, 538353ULL,
	399187ULL, 294991ULL, 217244ULL,
	159431ULL, 116593ULL, 84962ULL,
	61689ULL, 44629ULL, 32167ULL,
	23099ULL, 16525ULL, 11777ULL,
	8361ULL, 5912ULL, 4165ULL,
	2922ULL, 2041ULL, 1421ULL,
	985ULL,
};

/*
 * Pre-FEC BER (* 1e18) at Q = @q_mdb (0.001 dB), linear interpolation
 * between table entries.  The table's spacing (0.05 dB) keeps the
 * interpolation error within a few percent and the result strictly
 * decreasing in Q wherever it is non-zero.
 */
static u64 ofsim_ber_from_q(s32 q_mdb)
{
	u32 i, frac;
	u64 a, b;

	if (q_mdb <= 0)
		return ofsim_ber_e18[0];
	i = (u32)q_mdb / OFSIM_BER_STEP_MDB;
	if (i >= OFSIM_BER_N - 1)
		return ofsim_ber_e18[OFSIM_BER_N - 1];
	frac = (u32)q_mdb % OFSIM_BER_STEP_MDB;
	a = ofsim_ber_e18[i];
	b = ofsim_ber_e18[i + 1];
	return a - (a - b) * frac / OFSIM_BER_STEP_MDB;
}

/* Q-factor (0.001 dB) from OSNR (0.01 dB): Q_dB = 0.41 * OSNR_dB + 3.7. */
static s32 ofsim_q_mdb(s32 osnr_cdb)
{
	return osnr_cdb * 41 / 10 + 3700;
}

/*
 * Post-FEC BER (* 1e18) from pre-FEC BER: a hard-decision FEC's waterfall,
 * post = 1e-12 * (pre / 1e-4)^8, capped at pre.  1e-12 at the FEC limit,
 * ~1e-20 (0 here) a decade below it, 1e-4 a decade above.
 */
static u64 ofsim_post_fec(u64 pre_e18)
{
	u64 x, x2, x4, x8;

	if (pre_e18 >= 40 * OFSIM_FEC_LIMIT_E18)
		return pre_e18;
	/* x = pre / limit in Q16; < 40 << 16 */
	x = ofsim_mul_div(pre_e18, 1 << 16, OFSIM_FEC_LIMIT_E18);
	x2 = (x * x) >> 16;		/* < 1600 << 16 */
	x4 = (x2 * x2) >> 16;		/* < 2.56e6 << 16 */
	x8 = (u64)(((__uint128_t)x4 * x4) >> 16);
	x8 = ofsim_mul_div(x8, 1000000, 1 << 16); /* 1e-12 * 1e18 */
	return x8 < pre_e18 ? x8 : pre_e18;
}

/* The optical chain, exported to the host unit tests (ofsim_priv.h). */
u64 ofsim_osnr_to_ber_e18(s32 osnr_cdb)
{
	return ofsim_ber_from_q(ofsim_q_mdb(osnr_cdb));
}

u64 ofsim_post_fec_ber_e18(u64 pre_e18)
{
	return ofsim_post_fec(pre_e18);
}

/* --------------------------------------------------------------- misc */

static u64 ofsim_isqrt(u64 v)
{
	u64 r = 0, bit = 1ULL << 62;

	while (bit > v)
		bit >>= 2;
	while (bit) {
		if (v >= r + bit) {
			v -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

/*
 * AR(1) coefficients for a tick of @dt simulated seconds and a correlation
 * time @tau: phi ~ exp(-dt/tau) (as tau / (tau + dt)) and the innovation
 * scale sqrt(1 - phi^2), both Q16, so the stationary spread of the noise
 * does not depend on time_scale.
 */
struct ofsim_ar {
	s64	phi;
	s64	sig;
};

static void ofsim_ar_init(struct ofsim_ar *ar, u32 dt, u32 tau)
{
	ar->phi = (s64)((65536ULL * tau) / (tau + dt));
	ar->sig = (s64)ofsim_isqrt(65536ULL * 65536 - ar->phi * ar->phi);
}

/* One AR(1) step of a state with stationary standard deviation @sd. */
static s32 ofsim_ar_step(s32 x, const struct ofsim_ar *ar, s64 sd, u64 *rng)
{
	s64 g = ofsim_gauss(rng);

	/* round, not floor: a floor would drift the state downwards */
	return (s32)((x * ar->phi + sd * ar->sig * g / OFSIM_GAUSS_SD +
		      32768) >> 16);
}

/* acc += bits * ber / 1e18, carrying the fraction in *rem. */
static u64 ofsim_errors(u64 bits, u64 ber_e18, u64 *rem)
{
	u64 q, r;

	if (!bits || !ber_e18)
		return 0;
	q = ofsim_mul_div(bits, ber_e18, OFSIM_E18);
	/* exact remainder: the true value is < 1e18, low 64 bits suffice */
	r = bits * ber_e18 - q * OFSIM_E18;
	*rem += r;
	if (*rem >= OFSIM_E18) {
		*rem -= OFSIM_E18;
		q++;
	}
	return q;
}

const char *ofsim_fault_name(u32 fault)
{
	static const char *const names[OPTIFIBER_FAULT_COUNT] = {
		"none", "fiber_cut", "osnr_degrade", "ber_creep",
		"amp_failure", "crc_burst", "traffic_surge",
	};

	return fault < OPTIFIBER_FAULT_COUNT ? names[fault] : "unknown";
}

const char *ofsim_link_name(u32 link_state)
{
	switch (link_state) {
	case OPTIFIBER_LINK_DOWN:
		return "down";
	case OPTIFIBER_LINK_UP:
		return "up";
	case OPTIFIBER_LINK_DEGRADED:
		return "degraded";
	}
	return "unknown";
}

/* ofsim_names_unique() borrows the site array for 4 u32 per site. */
_Static_assert(sizeof(struct ofsim_site) >= 4 * sizeof(u32),
	       "site state too small for the name table");

size_t ofsim_sites_size(u32 nsites)
{
	return (size_t)nsites * sizeof(struct ofsim_site);
}

static struct optifiber_site *ofsim_page(struct ofsim *sim, u32 i)
{
	return (struct optifiber_site *)(sim->pages +
					 (size_t)(1 + i) * OPTIFIBER_PAGE_SIZE);
}

/* ---------------------------------------------------------------- init */

static int ofsim_name_ok(const char *name)
{
	size_t n;

	for (n = 0; name[n]; n++) {
		char c = name[n];

		if (n >= OPTIFIBER_SITE_NAME_LEN - 1)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return 0;
	}
	return n > 0;
}

static u32 ofsim_name_hash(const char *name)
{
	u32 h = 2166136261U;

	while (*name)
		h = (h ^ (u8)*name++) * 16777619U;
	return h;
}

/*
 * Reject duplicate names in O(n): an open-addressing table of site
 * indices kept in the (not yet initialised) site array, which is large
 * enough for a table of 4 * nsites u32 slots.
 */
static int ofsim_names_unique(const char *const *names, u32 n, void *scratch)
{
	u32 *tab = scratch;
	u32 size = 1, mask, i;

	while (size < 2 * n)
		size <<= 1;
	mask = size - 1;
	memset(tab, 0, size * sizeof(u32));
	for (i = 0; i < n; i++) {
		u32 h = ofsim_name_hash(names[i]) & mask;

		while (tab[h]) {
			if (!strcmp(names[tab[h] - 1], names[i]))
				return 0;
			h = (h + 1) & mask;
		}
		tab[h] = i + 1;
	}
	return 1;
}

/* Per-site constants, a function of (seed, index) only. */
static void ofsim_site_init(struct ofsim_site *s, u64 seed, u32 index)
{
	u64 st = seed ^ ((u64)(index + 1) * 0xd1342543de82ef95ULL);
	u64 cap0;
	s32 rx_ref;

	memset(s, 0, sizeof(*s));
	ofsim_next(&st);
	s->rng = ofsim_next(&st);
	s->frng = ofsim_next(&st);

	s->modules = (u32)ofsim_range(&st, 2, 4);
	cap0 = s->modules * OFSIM_MODULE_CAPACITY_BPS;
	/* mean load 40-58 % of the initial capacity */
	s->base_bps = cap0 / 1000 * (u64)ofsim_range(&st, 400, 580);
	s->growth_q40 = OFSIM_Q40;
	s->growth_ppm_day = (u32)ofsim_range(&st, 5000, 30000);
	s->daily_amp_ppm = (u32)ofsim_range(&st, 120000, 220000);
	s->weekly_amp_ppm = (u32)ofsim_range(&st, 30000, 70000);
	s->daily_peak_s = (u32)ofsim_range(&st, 13 * 3600, 21 * 3600);

	/* DCI span: 20-80 km at 0.22 dB/km plus 1-2 dB of connectors */
	s->fiber_km = (u32)ofsim_range(&st, 20, 80);
	s->tx_cdbm = (s32)ofsim_range(&st, 100, 300);
	s->span_loss_cdb = (s32)(s->fiber_km * 22 + ofsim_range(&st, 100, 200));
	rx_ref = (s32)ofsim_range(&st, -1200, -400);
	s->amp_gain_cdb = rx_ref - s->tx_cdbm + s->span_loss_cdb;
	/* around the ARNO testbed's 25.4 dB */
	s->osnr_ref_cdb = (s32)ofsim_range(&st, 2470, 2610);
	s->temp_off_mc = (s32)ofsim_range(&st, -3000, 3000);
	s->bias_base_ua = (u32)ofsim_range(&st, 110000, 130000);
}

int ofsim_init(struct ofsim *sim, const struct ofsim_params *p,
	       const char *const *names, struct ofsim_site *sites, void *pages,
	       const char *host, u64 generation, const char **err)
{
	struct optifiber_dir *dir = pages;
	u32 i;

	if (!p || !names || !sites || !pages || !err) {
		if (err)
			*err = "missing argument";
		return -EINVAL;
	}
	if (p->nsites < 1 || p->nsites > OPTIFIBER_MAX_SITES) {
		*err = "nsites out of range 1..16384";
		return -EINVAL;
	}
	if (p->tick_ms < 10 || p->tick_ms > 60000) {
		*err = "tick_ms out of range 10..60000";
		return -EINVAL;
	}
	if (p->time_scale < 1 || p->time_scale > 3600) {
		*err = "time_scale out of range 1..3600";
		return -EINVAL;
	}
	if (p->fault_rate > 1000000) {
		*err = "fault_rate out of range 0..1000000";
		return -EINVAL;
	}
	if (p->sim_start_s > (1ULL << 40)) {
		*err = "sim_start_s out of range";
		return -EINVAL;
	}
	for (i = 0; i < p->nsites; i++) {
		if (!names[i] || !ofsim_name_ok(names[i])) {
			*err = "site name must be 1..31 chars of [A-Za-z0-9_.-]";
			return -EINVAL;
		}
	}
	if (!ofsim_names_unique(names, p->nsites, sites)) {
		*err = "duplicate site name";
		return -EINVAL;
	}

	memset(sim, 0, sizeof(*sim));
	sim->p = *p;
	sim->sites = sites;
	sim->pages = pages;
	sim->dir = dir;

	dir->magic = OPTIFIBER_MAGIC;
	dir->abi_major = OPTIFIBER_ABI_MAJOR;
	dir->abi_minor = OPTIFIBER_ABI_MINOR;
	dir->page_size = OPTIFIBER_PAGE_SIZE;
	dir->site_count = p->nsites;
	dir->tick_interval_ms = p->tick_ms;
	dir->time_scale = p->time_scale;
	dir->flags = OPTIFIBER_DIR_F_LIVE | OPTIFIBER_DIR_F_SIMULATED;
	sim->dir_flags = dir->flags;
	dir->generation = generation;
	dir->sim_time_s = p->sim_start_s;
	dir->seed = p->seed;
	for (i = 0; host && host[i] && i < OPTIFIBER_HOST_LEN - 1; i++)
		dir->host[i] = host[i];

	for (i = 0; i < p->nsites; i++) {
		struct optifiber_site *pg = ofsim_page(sim, i);
		struct ofsim_site *s = &sites[i];

		ofsim_site_init(s, p->seed, i);
		pg->magic = OPTIFIBER_SITE_MAGIC;
		pg->abi_major = OPTIFIBER_ABI_MAJOR;
		pg->abi_minor = OPTIFIBER_ABI_MINOR;
		pg->site_index = i;
		memcpy(pg->name, names[i], strlen(names[i])); /* <= 31 */
		pg->cmd_modules = s->modules;
		pg->cmd_modules_max = OFSIM_CMD_MODULES_MAX;
		pg->module_capacity_bps = OFSIM_MODULE_CAPACITY_BPS;
		pg->capacity_bps = s->modules * OFSIM_MODULE_CAPACITY_BPS;
		pg->sim_time_s = p->sim_start_s;
	}
	*err = NULL;
	return 0;
}

/* -------------------------------------------------------------- faults */

static void ofsim_fault_start(struct ofsim_site *s, u32 kind, u64 t,
			      u32 duration_s)
{
	s->fault = kind;
	s->fault_start_s = t;
	s->fault_end_s = t + duration_s;
	s->faults_total++;
	switch (kind) {
	case OPTIFIBER_FAULT_OSNR_DEGRADE:
		s->fault_mag = (s32)ofsim_range(&s->frng, 600, 800);	/* cdB */
		break;
	case OPTIFIBER_FAULT_BER_CREEP:
		s->fault_mag = (s32)ofsim_range(&s->frng, 35, 55); /* cdB/min */
		break;
	case OPTIFIBER_FAULT_AMP_FAILURE:
		s->fault_mag = (s32)ofsim_range(&s->frng, 800, 1200);	/* cdB */
		break;
	case OPTIFIBER_FAULT_CRC_BURST:
		s->fault_mag = (s32)ofsim_range(&s->frng, 1000, 100000); /* /s */
		break;
	case OPTIFIBER_FAULT_TRAFFIC_SURGE:
		s->fault_mag = (s32)ofsim_range(&s->frng, 1500, 2200); /* x1e-3 */
		break;
	default:
		s->fault_mag = 0;
		break;
	}
}

static void ofsim_fault_end(struct ofsim_site *s)
{
	s->fault = OPTIFIBER_FAULT_NONE;
	s->fault_start_s = 0;
	s->fault_end_s = 0;
	s->fault_mag = 0;
}

/* Random fault durations, simulated seconds. */
static u32 ofsim_fault_duration(struct ofsim_site *s, u32 kind)
{
	if (kind == OPTIFIBER_FAULT_BER_CREEP)
		return (u32)ofsim_range(&s->frng, 20 * 60, 60 * 60);
	if (kind == OPTIFIBER_FAULT_FIBER_CUT)
		return (u32)ofsim_range(&s->frng, 2 * 60, 30 * 60);
	return (u32)ofsim_range(&s->frng, 5 * 60, 30 * 60);
}

/* ---------------------------------------------------------------- tick */

/* What one tick needs besides the site: shared by every site. */
struct ofsim_tick_ctx {
	u64		t;		/* simulated time of this sample */
	u64		elapsed;	/* since sim_start_s */
	u64		now_ns;
	u64		fault_thresh;	/* random fault if draw >> 1 < this */
	u32		dt;
	u32		tod_phase;	/* time of day, Q32 */
	u32		week_phase;	/* busy mid-week, Q32 */
	struct ofsim_ar	ar_load;
	struct ofsim_ar	ar_rx;
	struct ofsim_ar	ar_osnr;
	struct ofsim_ar	ar_temp;
};

static void ofsim_site_tick(struct ofsim *sim, u32 idx,
			    const struct ofsim_tick_ctx *c)
{
	struct ofsim_site *s = &sim->sites[idx];
	struct optifiber_site *pg = ofsim_page(sim, idx);
	u64 t = c->t, offered, capacity, thr, bits, pre, post, perr;
	u64 el = 0, fstart = 0, fend = 0, n;
	s64 ppm, sfac;
	s32 rx, osnr, q_mdb, temp, cd, tod_sin;
	struct ofsim_sample smp;
	u32 link, bias, fault;
	int los;

	/* faults: expiry, then cmd_control, then a random start */
	if (s->fault && t >= s->fault_end_s)
		ofsim_fault_end(s);
	if (s->pend_op == OFSIM_PEND_CLEAR)
		ofsim_fault_end(s);
	else if (s->pend_op == OFSIM_PEND_START)
		ofsim_fault_start(s, s->pend_fault, t, s->pend_duration_s);
	s->pend_op = OFSIM_PEND_NONE;
	if (c->fault_thresh && !s->fault &&
	    (ofsim_next(&s->frng) >> 1) < c->fault_thresh) {
		u32 kind = 1 + (u32)(ofsim_next(&s->frng) %
				     (OPTIFIBER_FAULT_COUNT - 1));

		ofsim_fault_start(s, kind, t, ofsim_fault_duration(s, kind));
	}
	fault = s->fault;
	if (fault)
		el = t - s->fault_start_s;

	/*
	 * Offered load: base * compounding growth * (1 + daily + weekly +
	 * AR(1) noise).  growth *= 1 + rate * dt, once per tick.
	 */
	if (s->growth_q40 < OFSIM_GROWTH_CAP_Q40)
		s->growth_q40 += ofsim_mul_div(s->growth_q40,
					(u64)s->growth_ppm_day * c->dt,
					86400ULL * OFSIM_PPM);
	s->load_noise_ppm = ofsim_ar_step(s->load_noise_ppm, &c->ar_load,
					  20000, &s->rng);
	ppm = OFSIM_PPM + s->load_noise_ppm;
	/* sin() peaks a quarter period after zero: shift it to the peak */
	sfac = ofsim_sin(c->tod_phase + (1U << 30) -
			 (u32)(((u64)s->daily_peak_s << 32) / 86400));
	ppm += (s64)s->daily_amp_ppm * sfac / 32767;
	ppm += (s64)s->weekly_amp_ppm * ofsim_sin(c->week_phase) / 32767;
	if (ppm < 100000)
		ppm = 100000;
	offered = (u64)(((__uint128_t)s->base_bps * s->growth_q40) >> 40);
	offered = ofsim_mul_div(offered, (u64)ppm, OFSIM_PPM);
	if (fault == OPTIFIBER_FAULT_TRAFFIC_SURGE)
		offered = offered / 1000 * (u64)s->fault_mag;
	capacity = s->modules * OFSIM_MODULE_CAPACITY_BPS;

	/* temperature: diurnal +-2 degC peaking mid-afternoon, plus noise */
	s->temp_noise_mc = ofsim_ar_step(s->temp_noise_mc, &c->ar_temp, 150,
					 &s->rng);
	tod_sin = ofsim_sin(c->tod_phase + (1U << 30) -
			    (u32)((15ULL << 32) / 24));
	temp = 45000 + s->temp_off_mc + 2000 * tod_sin / 32767 +
	       s->temp_noise_mc;

	/* optics: rx power drives OSNR dB for dB around the reference */
	s->rx_noise_cdb = ofsim_ar_step(s->rx_noise_cdb, &c->ar_rx, 5,
					&s->rng);
	s->osnr_noise_cdb = ofsim_ar_step(s->osnr_noise_cdb, &c->ar_osnr, 8,
					  &s->rng);
	rx = s->tx_cdbm - s->span_loss_cdb + s->amp_gain_cdb + s->rx_noise_cdb;
	if (fault == OPTIFIBER_FAULT_AMP_FAILURE)
		rx -= s->fault_mag;
	if (fault == OPTIFIBER_FAULT_FIBER_CUT)
		rx = OFSIM_LOS_RX_CDBM;
	los = rx < OFSIM_LOS_CDBM;

	osnr = rx - (s->tx_cdbm - s->span_loss_cdb + s->amp_gain_cdb);
	if (osnr > 300)
		osnr = 300;
	osnr += s->osnr_ref_cdb + s->osnr_noise_cdb;
	if (fault == OPTIFIBER_FAULT_OSNR_DEGRADE)
		osnr -= el >= 60 ? s->fault_mag :
		       (s32)(s->fault_mag * (s64)el / 60);
	/* a soft failure: the decline stops at 12 dB (BER ~3e-3) */
	if (fault == OPTIFIBER_FAULT_BER_CREEP) {
		s64 d = el >= 3600 ? 1200 : s->fault_mag * (s64)el / 60;

		osnr -= d > 1200 ? 1200 : (s32)d;
	}
	if (osnr < 0)
		osnr = 0;

	if (los) {
		osnr = 0;
		q_mdb = 0;
		pre = OFSIM_E18 / 2;
		post = OFSIM_E18 / 2;
		link = OPTIFIBER_LINK_DOWN;
	} else {
		q_mdb = ofsim_q_mdb(osnr);
		pre = ofsim_ber_from_q(q_mdb);
		post = ofsim_post_fec(pre);
		link = pre > OFSIM_FEC_LIMIT_E18 ? OPTIFIBER_LINK_DEGRADED :
						   OPTIFIBER_LINK_UP;
	}
	if (los && !s->in_los)
		s->los_events++;
	s->in_los = los;

	/* traffic and counters */
	thr = link == OPTIFIBER_LINK_DOWN ? 0 :
	      (offered < capacity ? offered : capacity);
	bits = thr * c->dt;
	s->bytes += bits / 8;
	s->fec_corrected_bits += ofsim_errors(bits, pre, &s->fec_rem_e18);
	/*
	 * Post-FEC residual errors: an uncorrectable block leaves ~8 bit
	 * errors, an errored frame ~2 (errors cluster); at most every
	 * block (5440 bits, RS(544,514)) and every frame (1500 bytes).
	 */
	perr = ofsim_errors(bits, post, &s->post_rem_e18);
	s->post_bits_acc += perr;
	n = s->post_bits_acc / 8 - (s->post_bits_acc - perr) / 8;
	s->fec_uncorrectable_blocks += n < bits / 5440 ? n : bits / 5440;
	n = s->post_bits_acc / 2 - (s->post_bits_acc - perr) / 2;
	s->crc_errors += n < bits / 12000 ? n : bits / 12000;
	if (fault == OPTIFIBER_FAULT_CRC_BURST)
		s->crc_errors += (u64)s->fault_mag * c->dt;

	/* laser bias follows temperature (0.5 mA/degC) and ages 20 uA/day */
	bias = (u32)((s32)s->bias_base_ua + (temp - 45000) / 2) +
	       (u32)(c->elapsed / 86400 < 1000 ? c->elapsed / 86400 * 20 :
		     20000);
	/* residual CD: 17 ps/nm/km; fiber drift -0.0016 ps/nm/km/degC */
	cd = (s32)(s->fiber_km * 17) -
	     (s32)((s64)s->fiber_km * 16 * (temp - 45000) / 10000000);

	if (fault) {
		fstart = s->fault_start_s;
		fend = s->fault_end_s;
	}

	/* publish under the page seqcount: the simulation provides every field */
	smp = (struct ofsim_sample){
		.sample_seq = sim->tick, .update_time_ns = c->now_ns,
		.sim_time_s = t, .throughput_bps = thr, .offered_bps = offered,
		.capacity_bps = capacity,
		.module_capacity_bps = OFSIM_MODULE_CAPACITY_BPS,
		.cmd_modules = s->modules,
		.cmd_modules_max = OFSIM_CMD_MODULES_MAX, .link_state = link,
		.bytes = s->bytes, .crc_errors = s->crc_errors,
		.fec_corrected_bits = s->fec_corrected_bits,
		.fec_uncorrectable_blocks = s->fec_uncorrectable_blocks,
		.los_events = s->los_events, .pre_fec_ber_e18 = pre,
		.post_fec_ber_e18 = post, .osnr_cdb = osnr,
		.q_factor_cdb = q_mdb / 10, .rx_power_cdbm = rx,
		.tx_power_cdbm = s->tx_cdbm, .chromatic_dispersion_ps_nm = cd,
		.laser_bias_ua = bias, .temperature_mc = temp, .fault = fault,
		.fault_start_sim_s = fstart, .fault_end_sim_s = fend,
		.faults_total = s->faults_total,
	};
	ofsim_page_publish(pg, &smp);
}

u64 ofsim_tick_begin(struct ofsim *sim, u64 now_ns)
{
	struct optifiber_dir *dir = sim->dir;
	struct ofsim_tick_ctx c;
	u64 rate;
	u32 i;

	sim->tick++;
	c.dt = sim->p.time_scale;
	c.elapsed = sim->tick * c.dt;
	c.t = sim->p.sim_start_s + c.elapsed;
	c.now_ns = now_ns;
	c.tod_phase = ofsim_phase(c.t, 86400);
	/*
	 * Weekly swing peaking on Wednesday noon, lowest on Sunday: the
	 * epoch was a Thursday, so t + 3 days is the time since a Monday;
	 * sin() peaks a quarter period (1.75 days) after its zero, which
	 * must fall 2.5 - 1.75 days after Monday 00:00.  One week is added
	 * to keep the sum positive.
	 */
	c.week_phase = ofsim_phase(c.t + 3 * 86400 - 64800 + 604800, 604800);
	/* P(fault per tick) = rate / 1000 per day * dt / 86400, as 2^-63 */
	rate = (u64)sim->p.fault_rate * c.dt;
	if (!rate)
		c.fault_thresh = 0;
	else if (rate >= 86400000ULL)
		c.fault_thresh = ~0ULL;
	else
		c.fault_thresh = ofsim_mul_div(rate, 1ULL << 63,
						     86400000ULL);
	ofsim_ar_init(&c.ar_load, c.dt, 600);
	ofsim_ar_init(&c.ar_rx, c.dt, 300);
	ofsim_ar_init(&c.ar_osnr, c.dt, 120);
	ofsim_ar_init(&c.ar_temp, c.dt, 1800);

	ofsim_seq_write_begin(&dir->seq);
	for (i = 0; i < sim->p.nsites; i++)
		if (!sim->external || !sim->external[i])
			ofsim_site_tick(sim, i, &c);
	return c.t;
}

void ofsim_tick_end(struct ofsim *sim, u64 now_ns)
{
	struct optifiber_dir *dir = sim->dir;

	dir->flags = sim->dir_flags;
	dir->tick = sim->tick;
	dir->sim_time_s = sim->p.sim_start_s + sim->tick * sim->p.time_scale;
	dir->update_time_ns = now_ns;
	ofsim_seq_write_end(&dir->seq);
}

void ofsim_tick(struct ofsim *sim, u64 now_ns)
{
	ofsim_tick_begin(sim, now_ns);
	ofsim_tick_end(sim, now_ns);
}


/*
 * The one writer of a site page's measurements.  Every source (the
 * simulation above, the replay of a recording, the network-interface
 * collector) fills a struct ofsim_sample and publishes it here, so the
 * seqcount protocol of the ABI header and the meaning of each field are kept
 * in one place whatever produced the numbers.
 */

/*
 * Fields the source marked absent are written as 0: a reader that ignores
 * optifiber_site.absent (ABI minor 0) sees a zero, never a stale value from
 * an earlier sample.
 */
static u64 ofsim_keep(u64 v, u64 absent, u64 bit)
{
	return absent & bit ? 0 : v;
}

static s32 ofsim_keep_s(s32 v, u64 absent, u64 bit)
{
	return absent & bit ? 0 : v;
}

void ofsim_page_publish(struct optifiber_site *pg,
			const struct ofsim_sample *s)
{
	u64 a = s->absent & OPTIFIBER_ABSENT_ALL;

	ofsim_seq_write_begin(&pg->seq);
	pg->flags = OPTIFIBER_SITE_F_VALID | s->site_flags;
	pg->sample_seq = s->sample_seq;
	pg->update_time_ns = s->update_time_ns;
	pg->sim_time_s = s->sim_time_s;
	pg->throughput_bps = ofsim_keep(s->throughput_bps, a,
					OPTIFIBER_ABSENT_THROUGHPUT);
	pg->offered_bps = ofsim_keep(s->offered_bps, a,
				     OPTIFIBER_ABSENT_OFFERED);
	pg->capacity_bps = ofsim_keep(s->capacity_bps, a,
				      OPTIFIBER_ABSENT_CAPACITY);
	pg->module_capacity_bps = ofsim_keep(s->module_capacity_bps, a,
					     OPTIFIBER_ABSENT_MODULE_CAPACITY);
	pg->cmd_modules = (u32)ofsim_keep(s->cmd_modules, a,
					  OPTIFIBER_ABSENT_CMD_MODULES);
	pg->cmd_modules_max = (u32)ofsim_keep(s->cmd_modules_max, a,
					      OPTIFIBER_ABSENT_CMD_MODULES);
	pg->link_state = (u32)ofsim_keep(s->link_state, a,
					 OPTIFIBER_ABSENT_LINK_STATE);
	pg->bytes = ofsim_keep(s->bytes, a, OPTIFIBER_ABSENT_BYTES);
	pg->crc_errors = ofsim_keep(s->crc_errors, a,
				    OPTIFIBER_ABSENT_CRC_ERRORS);
	pg->fec_corrected_bits = ofsim_keep(s->fec_corrected_bits, a,
					    OPTIFIBER_ABSENT_FEC_CORRECTED);
	pg->fec_uncorrectable_blocks =
		ofsim_keep(s->fec_uncorrectable_blocks, a,
			   OPTIFIBER_ABSENT_FEC_UNCORRECTABLE);
	pg->los_events = ofsim_keep(s->los_events, a,
				    OPTIFIBER_ABSENT_LOS_EVENTS);
	pg->pre_fec_ber_e18 = ofsim_keep(s->pre_fec_ber_e18, a,
					 OPTIFIBER_ABSENT_PRE_FEC_BER);
	pg->post_fec_ber_e18 = ofsim_keep(s->post_fec_ber_e18, a,
					  OPTIFIBER_ABSENT_POST_FEC_BER);
	pg->osnr_cdb = ofsim_keep_s(s->osnr_cdb, a, OPTIFIBER_ABSENT_OSNR);
	pg->q_factor_cdb = ofsim_keep_s(s->q_factor_cdb, a,
					OPTIFIBER_ABSENT_Q_FACTOR);
	pg->rx_power_cdbm = ofsim_keep_s(s->rx_power_cdbm, a,
					 OPTIFIBER_ABSENT_RX_POWER);
	pg->tx_power_cdbm = ofsim_keep_s(s->tx_power_cdbm, a,
					 OPTIFIBER_ABSENT_TX_POWER);
	pg->chromatic_dispersion_ps_nm =
		ofsim_keep_s(s->chromatic_dispersion_ps_nm, a,
			     OPTIFIBER_ABSENT_CD);
	pg->laser_bias_ua = (u32)ofsim_keep(s->laser_bias_ua, a,
					    OPTIFIBER_ABSENT_LASER_BIAS);
	pg->temperature_mc = ofsim_keep_s(s->temperature_mc, a,
					  OPTIFIBER_ABSENT_TEMPERATURE);
	pg->fault = (u32)ofsim_keep(s->fault, a, OPTIFIBER_ABSENT_FAULT);
	pg->fault_start_sim_s = ofsim_keep(s->fault_start_sim_s, a,
					   OPTIFIBER_ABSENT_FAULT);
	pg->fault_end_sim_s = ofsim_keep(s->fault_end_sim_s, a,
					 OPTIFIBER_ABSENT_FAULT);
	pg->faults_total = ofsim_keep(s->faults_total, a,
				      OPTIFIBER_ABSENT_FAULT);
	pg->absent = a;
	/*
	 * The ring of recent samples, inside the same write section (ABI
	 * minor 2).  The source spans several members, so it is addressed from
	 * the page's base, which is also what FORTIFY_SOURCE bounds it by.
	 */
	memcpy(pg->recent[s->sample_seq % OPTIFIBER_RECENT],
	       (const u8 *)pg + OPTIFIBER_SAMPLE_OFFSET, OPTIFIBER_SAMPLE_LEN);
	ofsim_seq_write_end(&pg->seq);
}
