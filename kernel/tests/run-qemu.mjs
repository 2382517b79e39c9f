#!/usr/bin/env node
// npm run test:kernel: build optifiber.ko and boot it for real under QEMU (TCG).
//
//  1. prerequisites (apt packages; the matching Debian kernel image, cached in
//     .cache/kernel/, from which the uncompressed vmlinux is extracted)
//  2. make -C kernel module sim; the in-VM test programs, static
//  3. a busybox initramfs (newc cpio, gzip -1) in three concatenated parts: a
//     cached base (busybox, node + its libraries, koffi), a cached part with
//     the exporter's runtime node_modules (onnxruntime-node linux-x64 only),
//     and a small part with this run's module, tests, exporter/dist, the
//     models and /init
//  4. boot, stream the serial console, parse "RESULT" lines, hard timeout
//  5. parity: the same parameters on the host through build/optifiber-sim,
//     compared hash to hash with the kernel's pages
//
// Output: one "PASS kernel: <case>" / "FAIL kernel: <case>: <reason>" line per
// case, then "N passed, N failed"; exit 1 on any failure or missing case.
// Arguments: --kernel 6.1 (default) | 6.12: the Debian kernel series whose
// headers build the module and whose image boots the VM. --arch arm64 (6.1
// only): cross-build with gcc-aarch64-linux-gnu against Debian's arm64
// headers package (apt-get download + dpkg -x, with the host's
// linux-headers-*-common and linux-kbuild-6.1 tools), boot Debian's arm64
// image under qemu-system-aarch64 (TCG) and run the C cases, parity and the
// header's reader example; no Node in that VM. --debug-kernel (6.1,
// x86-64; npm run test:kernel:debug): a small kernel built from Debian's
// linux-source-6.1 with KASAN, lockdep and KUnit (kernel/tests/debug/
// debug.config; cached in .cache/kernel-debug/), the C cases, parity, the
// reader example and the module's KUnit suites (optifiber_kunit.ko).
// Environment: OF_QEMU_TIMEOUT_S (default 300), OF_VERBOSE=1 (echo the console
// while it runs), OF_VM_NO_MODELS=1 (the in-VM exporter without onnxruntime
// and the models: smaller initramfs, exporter_models_up then fails). The console of the last run is kept in
// .cache/kernel/last-console.log.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const kernelDir = path.resolve(here, '..');
const repo = path.resolve(kernelDir, '..');
const TIMEOUT_S = Number(process.env.OF_QEMU_TIMEOUT_S || (process.argv.includes('--debug-kernel') ? 900 : 300));
const VERBOSE = !!process.env.OF_VERBOSE;

function argValue(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}
// Debian's kernel series: the headers package that provides it, and the
// version pattern of /usr/src/linux-headers-<version> (6.1.0-57-amd64,
// 6.12.118+deb12-amd64).
const SERIES = {
  '6.1': { headersPkg: 'linux-headers-amd64', re: /^linux-headers-(6\.1\.0-(\d+)-amd64)$/ },
  '6.12': { headersPkg: 'linux-headers-6.12-amd64', re: /^linux-headers-(6\.12\.(\d+)\+deb\d+-amd64)$/ },
};
const KSERIES = argValue('--kernel', '6.1');
const ARCH = argValue('--arch', 'x86-64');
const ARM = ARCH === 'arm64';
const DEBUG = process.argv.includes('--debug-kernel');
const C_ONLY = ARM || DEBUG; // no Node in the VM: C cases, parity, reader example
if (!['x86-64', 'arm64'].includes(ARCH) || (ARM && KSERIES !== '6.1')) {
  console.log(`FAIL kernel: harness: --arch ${ARCH} --kernel ${KSERIES}: supported x86-64 (6.1, 6.12), arm64 (6.1)`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const LABEL = `kernel ${KSERIES}${ARM ? ' arm64' : ''}${DEBUG ? ' debug' : ''}`; // "PASS kernel 6.12: <case>", "PASS kernel 6.1 arm64: <case>"
const cache = path.join(repo, '.cache', ARM ? 'kernel-arm64' : DEBUG ? 'kernel-debug' : 'kernel');
const buildDir = path.join(kernelDir, 'build', ARM ? 'vm-arm64' : DEBUG ? 'vm-debug' : 'vm');
const CC = ARM ? 'aarch64-linux-gnu-gcc' : 'gcc';
if (!SERIES[KSERIES]) {
  console.log(`FAIL kernel: harness: --kernel ${KSERIES}: supported ${Object.keys(SERIES).join(', ')}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// The parity run: same parameters in the kernel and in the simulator.
const PARITY = {
  seed: 20261121,
  sim_start: 1767225600, // 2026-01-01T00:00:00Z
  fault_rate: 20000, // 20 faults per site per simulated day
  time_scale: 60,
  tick_ms: 10,
  nsites: 64,
  max_ticks: 300,
};

// Cases the in-VM programs must report, in order.
const VM_CASES = [
  'boot_checks_active', 'invalid_params', 'load', 'abi_directory', 'site_names', 'summary_lists_sites',
  'mmap_read_advances', 'seqcount_snapshot_consistent', 'mmap_write_refused', 'mprotect_write_refused',
  'rdwr_write_refused', 'mmap_bounds', 'cmd_add_raises_capacity',
  'fault_osnr_degrade', 'fault_clear', 'bad_commands', 'cmd_unprivileged_refused',
  'cmd_concurrent_writers', 'rmmod_while_mapped', 'rmmod_under_load', 'reload', 'nsites_4096',
  'nsites_max', 'dmesg_clean',
];
// The interface source (ifaces=): veth pair + the test NIC tests/ofnic (not on
// the debug kernel, whose tinyconfig has no veth).
const IFACE = !DEBUG;
const IFACE_CASES = ['net_setup', 'iface_params_refused', 'iface_load', 'iface_veth_fields',
  'iface_counters_match_sysfs', 'iface_carrier_down', 'iface_cmd_refused', 'iface_rename',
  'iface_unregister', 'iface_nic_fec_eeprom', 'iface_nic_unregister', 'iface_rmmod', 'dmesg_clean_after_iface'];
const READER_CASES = ['ts_reader_open', 'ts_reader_matches_pages', 'ts_reader_samples_advance',
  'ts_reader_source_gone', 'dmesg_clean_after_reader'];
// The real exporter in the VM (kernel/tests/vm/exporter-check.mjs), plus
// exporter_metrics_lint: promtool on the host over the scrape the VM printed.
const EXPORTER_CASES = ['exporter_starts', 'exporter_models_up', 'exporter_metrics_match_pages',
  'exporter_control_requires_token', 'exporter_control_cmd_add', 'exporter_sigterm', 'exporter_metrics_lint',
  'dmesg_clean_after_exporter'];
const WITH_MODELS = !process.env.OF_VM_NO_MODELS;
// The exporter check runs with this site read from a veth (ifaces=ofx0:Stone):
// absent fields have no metric line, the link goes down, and on the host
// promtool fires OptiFiberLinkDown from the VM's scrapes.
const IFACE_EXPORTER_SITE = 'Stone';
const IFACE_EXPORTER_CASES = ['exporter_iface_link_down', 'exporter_link_down_alert'];

const t0 = Date.now();
const timings = {};
const log = (...a) => console.log('[test:kernel]', ...a);
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: opts.encoding ?? 'utf8', maxBuffer: 1 << 30, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  return r;
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || null;
}

// ---------------------------------------------------------------- 1. prereqs

const APT_PKGS = [SERIES[KSERIES].headersPkg, 'qemu-system-x86', 'busybox-static', 'cpio', 'kmod', 'xz-utils', 'zstd',
  ...(ARM ? ['qemu-system-arm', 'gcc-aarch64-linux-gnu', 'libc6-dev-arm64-cross'] : []),
  ...(DEBUG ? ['linux-source-6.1', 'flex', 'bison', 'bc', 'libelf-dev', 'libssl-dev'] : [])];

function headersVersion() {
  const { re } = SERIES[KSERIES];
  const vers = fs.existsSync('/usr/src') ? fs.readdirSync('/usr/src').map((d) => re.exec(d)).filter(Boolean) : [];
  vers.sort((a, b) => Number(a[2]) - Number(b[2]));
  return vers.at(-1)?.[1] ?? null;
}

function busyboxStatic() {
  if (!fs.existsSync('/bin/busybox')) return false;
  const r = spawnSync('ldd', ['/bin/busybox'], { encoding: 'utf8' });
  return /not a dynamic executable/.test(r.stdout + r.stderr);
}

function ensurePrereqs() {
  const missing = [];
  if (!headersVersion()) missing.push(SERIES[KSERIES].headersPkg);
  if (!which('qemu-system-x86_64')) missing.push('qemu-system-x86');
  if (!busyboxStatic()) missing.push('busybox-static');
  if (!which('xz')) missing.push('xz-utils');
  if (!which('zstd')) missing.push('zstd');
  if (!which('cpio')) missing.push('cpio');
  if (!which('modinfo')) missing.push('kmod');
  if (ARM && !which('qemu-system-aarch64')) missing.push('qemu-system-arm');
  if (ARM && !which('aarch64-linux-gnu-gcc')) missing.push('gcc-aarch64-linux-gnu');
  if (ARM && !fs.existsSync('/usr/aarch64-linux-gnu/lib/libc.a')) missing.push('libc6-dev-arm64-cross');
  if (DEBUG && !fs.existsSync(DEBUG_TARBALL)) missing.push('linux-source-6.1');
  if (DEBUG && (!which('flex') || !which('bison') || !which('bc'))) missing.push('flex', 'bison', 'bc');
  if (DEBUG && !fs.existsSync('/usr/include/libelf.h')) missing.push('libelf-dev');
  if (missing.length) {
    const cmd = `apt-get update && apt-get install -y --no-install-recommends ${APT_PKGS.join(' ')}`;
    if (process.getuid() !== 0) throw new Error(`missing packages ${missing.join(', ')}; run as root:\n  ${cmd}`);
    log(`installing ${missing.join(', ')} (apt-get)`);
    run('apt-get', ['update'], { stdio: 'inherit' });
    run('apt-get', ['install', '-y', '--no-install-recommends', ...APT_PKGS], { stdio: 'inherit' });
  }
  const ver = headersVersion();
  if (!ver) throw new Error(`no /usr/src/linux-headers-${KSERIES}.*-amd64 after installing ${SERIES[KSERIES].headersPkg}`);
  return ver;
}

// bzImage: setup code, then the compressed ELF vmlinux; Debian's 6.1 uses xz
// (magic FD 37 7A 58 5A 00), 6.12 zstd (magic 28 B5 2F FD). Like the kernel's
// scripts/extract-vmlinux: try each magic until one decompresses to an ELF.
const DECOMPRESSORS = [
  { name: 'xz', magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), cmd: ['xz', '-dc', '--single-stream'] },
  { name: 'zstd', magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), cmd: ['zstd', '-dcq'] },
];

function extractVmlinux(z) {
  for (const d of DECOMPRESSORS) {
    for (let off = z.indexOf(d.magic); off >= 0; off = z.indexOf(d.magic, off + 1)) {
      // zstd complains about the bytes after its frame but has written the ELF by then
      const r = spawnSync(d.cmd[0], d.cmd.slice(1), { input: z.subarray(off), maxBuffer: 1 << 30 });
      if (r.stdout && r.stdout.length > 4 && r.stdout.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1'))) {
        log(`vmlinux: ${d.name} stream at offset ${off} of vmlinuz, ${(r.stdout.length / 1048576).toFixed(1)} MiB ELF`);
        return r.stdout;
      }
    }
  }
  return null;
}

// The running kernel of the VM: the Debian image matching the headers.
function ensureVmlinux(ver) {
  fs.mkdirSync(cache, { recursive: true });
  const vmlinux = path.join(cache, `vmlinux-${ver}`);
  if (fs.existsSync(vmlinux)) return vmlinux;
  const pkg = `linux-image-${ver}-unsigned`;
  let deb = fs.readdirSync(cache).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) {
    if (process.getuid() !== 0) {
      throw new Error(`kernel image missing; run:\n  mkdir -p ${cache} && cd ${cache} && apt-get download ${pkg}`);
    }
    log(`apt-get download ${pkg} -> ${path.relative(repo, cache)}/`);
    run('apt-get', ['download', pkg], { cwd: cache });
    deb = fs.readdirSync(cache).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb`);
  }
  const x = path.join(cache, 'image');
  fs.rmSync(x, { recursive: true, force: true });
  log(`dpkg -x ${deb}`);
  run('dpkg', ['-x', path.join(cache, deb), x]);
  const vmlinuz = path.join(x, 'boot', `vmlinuz-${ver}`);
  const elf = extractVmlinux(fs.readFileSync(vmlinuz));
  if (!elf) throw new Error(`no xz- or zstd-compressed ELF found in ${vmlinuz}`);
  fs.writeFileSync(`${vmlinux}.tmp`, elf);
  fs.renameSync(`${vmlinux}.tmp`, vmlinux);
  fs.rmSync(x, { recursive: true, force: true });
  return vmlinux;
}

// arm64: Debian's arm64 image, headers and busybox-static packages, fetched
// with apt-get download (the arm64 architecture is added for the download
// only: installing linux-headers-*-arm64:arm64 would pull gcc-12:arm64) and
// unpacked with dpkg -x into .cache/kernel-arm64/x. The headers tree points
// at ../linux-headers-<ver>-common and ../../lib/linux-kbuild-6.1: those come
// from the host (arch-independent sources, host-built kbuild tools).
function ensureArm64(ver) {
  const armVer = ver.replace(/-amd64$/, '-arm64');
  fs.mkdirSync(cache, { recursive: true });
  const pkgs = [`linux-image-${armVer}-unsigned`, `linux-headers-${armVer}`, 'busybox-static'];
  const debOf = (p) => fs.readdirSync(cache).find((f) => f.startsWith(`${p}_`) && f.endsWith('_arm64.deb'));
  const missing = pkgs.filter((p) => !debOf(p));
  if (missing.length) {
    if (process.getuid() !== 0) throw new Error(`arm64 packages missing; as root: dpkg --add-architecture arm64 && apt-get update && (cd ${cache} && apt-get download ${missing.map((p) => `${p}:arm64`).join(' ')})`);
    log(`apt-get download ${missing.map((p) => `${p}:arm64`).join(' ')} (arm64 added for the download only)`);
    const had = run('dpkg', ['--print-foreign-architectures']).stdout.split('\n').includes('arm64');
    try {
      if (!had) run('dpkg', ['--add-architecture', 'arm64']);
      run('apt-get', ['update', '-qq']);
      run('apt-get', ['download', ...missing.map((p) => `${p}:arm64`)], { cwd: cache });
    } finally {
      if (!had) {
        run('dpkg', ['--remove-architecture', 'arm64'], { allowFail: true });
        run('apt-get', ['update', '-qq'], { allowFail: true });
      }
    }
  }
  const x = path.join(cache, 'x');
  const kdir = path.join(x, 'usr', 'src', `linux-headers-${armVer}`);
  const image = path.join(x, 'boot', `vmlinuz-${armVer}`);
  const busybox = path.join(x, 'bin', 'busybox');
  if (!fs.existsSync(kdir) || !fs.existsSync(image) || !fs.existsSync(busybox)) {
    for (const p of pkgs) run('dpkg', ['-x', path.join(cache, debOf(p)), x]);
  }
  const links = [[path.join(x, 'usr', 'src', `linux-headers-${ver.replace(/-amd64$/, '-common')}`), `/usr/src/linux-headers-${ver.replace(/-amd64$/, '-common')}`],
    [path.join(x, 'usr', 'lib', 'linux-kbuild-6.1'), '/usr/lib/linux-kbuild-6.1']];
  for (const [l, target] of links) {
    if (!fs.existsSync(target)) throw new Error(`${target} missing (linux-headers-amd64 provides it)`);
    fs.mkdirSync(path.dirname(l), { recursive: true });
    fs.rmSync(l, { force: true });
    fs.symlinkSync(target, l);
  }
  return { name: armVer, kdir, image, busybox, kbuildArgs: 'ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-' };
}

// The debug kernel: tinyconfig + kernel/tests/debug/debug.config, built
// once (about half an hour of 2 shared cores) and reused while the config
// and the tarball stay the same (a stamp records both).
const DEBUG_TARBALL = '/usr/src/linux-source-6.1.tar.xz';
function ensureDebugKernel() {
  const src = path.join(cache, 'linux-source-6.1');
  const out = path.join(cache, 'build');
  const fragment = path.join(here, 'debug', 'debug.config');
  const stamp = path.join(out, '.optifiber-stamp');
  const want = `${fs.statSync(DEBUG_TARBALL).size}:${createHash('sha256').update(fs.readFileSync(fragment)).digest('hex')}`;
  // bzImage through SeaBIOS, not PVH into vmlinux: 6.1's PVH entry touches
  // KASAN shadow memory before it is mapped (a triple fault at boot)
  const vmlinux = path.join(out, 'arch', 'x86', 'boot', 'bzImage');
  const ready = () => fs.existsSync(vmlinux) && fs.existsSync(path.join(out, 'Module.symvers')) &&
    fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want;
  if (!ready()) {
    const t = Date.now();
    fs.mkdirSync(cache, { recursive: true });
    if (!fs.existsSync(path.join(src, 'Makefile'))) {
      log(`tar -xJf ${DEBUG_TARBALL} -> ${path.relative(repo, cache)}/`);
      run('tar', ['-xJf', DEBUG_TARBALL, '-C', cache]);
    }
    fs.mkdirSync(out, { recursive: true });
    log('debug kernel: tinyconfig + debug.config (KASAN, PROVE_LOCKING, KUNIT), make vmlinux modules');
    run('make', ['-s', '-C', src, `O=${out}`, 'tinyconfig']);
    run(path.join(src, 'scripts', 'kconfig', 'merge_config.sh'), ['-m', '-O', out, path.join(out, '.config'), fragment]);
    run('make', ['-s', '-C', src, `O=${out}`, 'olddefconfig']);
    const config = fs.readFileSync(path.join(out, '.config'), 'utf8');
    for (const o of ['KASAN', 'KASAN_VMALLOC', 'PROVE_LOCKING', 'KUNIT', 'PVH', 'MODULES']) {
      if (!config.includes(`\nCONFIG_${o}=y`)) throw new Error(`debug kernel config lacks CONFIG_${o}=y`);
    }
    run('nice', ['-n', '10', 'make', '-s', '-C', src, `O=${out}`, '-j2', 'bzImage', 'modules']);
    fs.writeFileSync(stamp, want);
    log(`debug kernel built in ${secs(Date.now() - t)}`);
  }
  const release = fs.readFileSync(path.join(out, 'include', 'config', 'kernel.release'), 'utf8').trim();
  return { name: `${release} (KASAN, PROVE_LOCKING, KUNIT)`, kdir: out, image: vmlinux, busybox: '/bin/busybox', kbuildArgs: '' };
}

// ------------------------------------------------------------------ 2. build

function build(ver, arm) {
  if (arm) {
    log(`make -C kernel module KDIR=${path.relative(repo, arm.kdir)} ${arm.kbuildArgs}`);
    run('make', ['-s', '-C', kernelDir, 'module', `KDIR=${arm.kdir}`, `KBUILD_ARGS=${arm.kbuildArgs}`]);
  } else {
    log(`make -C kernel module KVER=${ver}`);
    run('make', ['-s', '-C', kernelDir, 'module', `KVER=${ver}`]);
  }
  const ko = path.join(kernelDir, 'optifiber.ko');
  if (!fs.existsSync(ko)) throw new Error('make module produced no kernel/optifiber.ko');
  let sim = null;
  if (fs.existsSync(path.join(kernelDir, 'userspace', 'optifiber-sim.c'))) {
    log('make -C kernel sim');
    run('make', ['-s', '-C', kernelDir, 'sim']);
    sim = path.join(kernelDir, 'build', 'optifiber-sim');
  } else {
    log('kernel/userspace/optifiber-sim.c missing: parity cannot run');
  }
  // the TypeScript reader, for the in-VM reader check (incremental, ~2 s)
  const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!arm && fs.existsSync(tsc)) {
    const r = run(process.execPath, [tsc, '-b', path.join(repo, 'exporter')], { allowFail: true, cwd: repo });
    if (r.status !== 0) log(`tsc -b exporter failed (using the existing exporter/dist):\n${(r.stdout + r.stderr).split('\n').slice(0, 5).join('\n')}`);
  }
  fs.mkdirSync(buildDir, { recursive: true });
  const cflags = ['-static', '-O2', '-Wall', '-Werror', '-I', path.join(kernelDir, 'include', 'uapi')];
  const vmtest = path.join(buildDir, 'optifiber_vmtest');
  run(CC, [...cflags, '-pthread', '-o', vmtest, path.join(here, 'vm', 'optifiber_vmtest.c')]);
  // the header's reader example, on the VM's CPU (a weakly ordered one on arm64)
  let readerExample = null;
  if (C_ONLY) {
    run('make', ['-s', '-C', kernelDir, 'build/reader_example.inc']);
    readerExample = path.join(buildDir, 'abi-reader-example');
    run(CC, ['-std=gnu11', '-D_GNU_SOURCE', ...cflags, '-I', path.join(kernelDir, 'build'), '-pthread', '-o', readerExample,
      path.join(here, 'abi_reader_example.c')]);
  }
  // the simulator, static, for its parity hash inside the VM
  let simStatic = null;
  if (sim) {
    simStatic = path.join(buildDir, 'optifiber-sim');
    run(CC, ['-std=gnu11', '-D_GNU_SOURCE', ...cflags, '-o', simStatic,
      path.join(kernelDir, 'userspace', 'optifiber-sim.c'), path.join(kernelDir, 'userspace', 'ofreplay.c'),
      path.join(kernelDir, 'sim', 'ofsim.c'), path.join(kernelDir, 'sim', 'ofsim_cmd.c'), '-lm']);
  }
  const kunit = path.join(kernelDir, 'optifiber_kunit.ko');
  const net = IFACE ? netModules(ver, arm) : {};
  return { ko, sim, vmtest, simStatic, readerExample, kunit: DEBUG && fs.existsSync(kunit) ? kunit : null, ...net };
}

// The interface cases' kernel modules: Debian's veth.ko from the image
// package (6.12 ships it xz-compressed: unpacked here, busybox cannot), and
// the test NIC tests/ofnic built against the same headers as optifiber.ko.
function netModules(ver, arm) {
  const name = arm ? arm.name : ver;
  const veth = path.join(cache, `veth-${name}.ko`);
  if (!fs.existsSync(veth)) {
    const rel = `lib/modules/${name}/kernel/drivers/net/veth.ko`;
    let data;
    if (arm) {
      const base = path.join(path.dirname(arm.kdir), '..', '..', rel);
      data = fs.existsSync(base) ? fs.readFileSync(base) : run('xz', ['-dc', `${base}.xz`], { encoding: 'buffer' }).stdout;
    } else {
      const deb = fs.readdirSync(cache).find((f) => f.startsWith(`linux-image-${ver}-unsigned_`) && f.endsWith('.deb'));
      if (!deb) throw new Error(`linux-image-${ver}-unsigned .deb missing from ${cache} (needed for veth.ko)`);
      const list = run('dpkg-deb', ['-c', path.join(cache, deb)]).stdout.split('\n').map((l) => l.split(/\s+/).at(-1));
      const member = list.find((l) => l === `./${rel}` || l === `./${rel}.xz`);
      if (!member) throw new Error(`no ${rel} in ${deb}`);
      data = run('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -xO "$2"', 'sh', path.join(cache, deb), member], { encoding: 'buffer' }).stdout;
      if (member.endsWith('.xz')) data = run('xz', ['-dc'], { input: data, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'buffer' }).stdout;
    }
    fs.writeFileSync(`${veth}.tmp`, data);
    fs.renameSync(`${veth}.tmp`, veth);
  }
  const dir = path.join(buildDir, `ofnic-${name}`);
  fs.mkdirSync(dir, { recursive: true });
  // copied only when changed: kbuild then skips an up-to-date ofnic.ko
  for (const f of ['Kbuild', 'ofnic.c']) {
    const src = fs.readFileSync(path.join(here, 'ofnic', f));
    const dst = path.join(dir, f);
    if (!fs.existsSync(dst) || !fs.readFileSync(dst).equals(src)) fs.writeFileSync(dst, src);
  }
  const kdir = arm ? arm.kdir : `/usr/src/linux-headers-${ver}`;
  // one directory per kernel version; a full kbuild pass costs seconds even when nothing changed
  const ko = path.join(dir, 'ofnic.ko');
  const stale = !fs.existsSync(ko) || ['Kbuild', 'ofnic.c'].some((f) => fs.statSync(path.join(dir, f)).mtimeMs > fs.statSync(ko).mtimeMs);
  if (stale) run('make', ['-s', '-C', kdir, `M=${dir}`, 'W=1', ...(arm ? arm.kbuildArgs.split(' ') : []), 'modules']);
  return { veth, ofnic: ko };
}

// -------------------------------------------------------------- 3. initramfs

// newc cpio writer: entries are {name, mode, data?|target?}
function cpioNewc(entries) {
  const chunks = [];
  let ino = 1;
  const pad4 = (n) => (4 - (n % 4)) % 4;
  const hdr = (name, mode, size, nlink) => {
    const f = (v) => v.toString(16).padStart(8, '0');
    const h = '070701' + f(ino++) + f(mode) + f(0) + f(0) + f(nlink) + f(0) + f(size) +
      f(0) + f(0) + f(0) + f(0) + f(name.length + 1) + f(0);
    const b = Buffer.from(h + name + '\0', 'latin1');
    return Buffer.concat([b, Buffer.alloc(pad4(b.length))]);
  };
  for (const e of entries) {
    const data = e.target !== undefined ? Buffer.from(e.target) : (e.data ?? Buffer.alloc(0));
    chunks.push(hdr(e.name, e.mode, data.length, e.mode & 0o040000 ? 2 : 1), data, Buffer.alloc(pad4(data.length)));
  }
  chunks.push(hdr('TRAILER!!!', 0, 0, 1));
  return Buffer.concat(chunks);
}

class Tree {
  constructor() { this.entries = new Map(); }
  dir(p) {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!this.entries.has(d)) this.entries.set(d, { name: d, mode: 0o040755 });
    }
  }
  file(p, data, mode = 0o100644) {
    p = p.replace(/^\/+/, '');
    this.dir(path.posix.dirname(p) === '.' ? '' : path.posix.dirname(p));
    this.entries.set(p, { name: p, mode, data: Buffer.isBuffer(data) ? data : Buffer.from(data) });
  }
  hostFile(p, src) { // follows symlinks
    const st = fs.statSync(src);
    this.file(p, fs.readFileSync(src), 0o100000 | (st.mode & 0o777));
  }
  symlink(p, target) {
    p = p.replace(/^\/+/, '');
    this.dir(path.posix.dirname(p));
    this.entries.set(p, { name: p, mode: 0o120777, target });
  }
  hostTree(p, src, filter = () => true) {
    for (const ent of fs.readdirSync(src, { withFileTypes: true })) {
      const s = path.join(src, ent.name);
      if (!filter(s, ent)) continue;
      if (ent.isDirectory()) this.hostTree(`${p}/${ent.name}`, s, filter);
      else if (ent.isFile() || ent.isSymbolicLink()) this.hostFile(`${p}/${ent.name}`, s);
    }
  }
  gz() {
    const list = [...this.entries.values()].sort((a, b) => a.name.localeCompare(b.name));
    return zlib.gzipSync(cpioNewc(list), { level: 1 });
  }
}

function nodeLibs() {
  const out = run('ldd', ['/usr/bin/node']).stdout;
  const libs = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

// Base part: busybox, node and its libraries, koffi. Cached by content hash.
function baseInitramfs() {
  const koffi = path.join(repo, 'node_modules', 'koffi');
  const koffiNative = path.join(repo, 'node_modules', '@koromix', 'koffi-linux-x64');
  const inputs = ['/bin/busybox', '/usr/bin/node', ...nodeLibs()];
  const h = createHash('sha256');
  for (const f of inputs) {
    const st = fs.statSync(f);
    h.update(`${f}:${st.size}:${st.mtimeMs}\n`);
  }
  for (const d of [koffi, koffiNative]) {
    if (fs.existsSync(d)) h.update(`${d}:${JSON.parse(fs.readFileSync(path.join(d, 'package.json'))).version}\n`);
  }
  h.update('base-v2');
  const file = path.join(cache, `base-${h.digest('hex').slice(0, 16)}.cpio.gz`);
  if (fs.existsSync(file)) return { file, cached: true };
  const t = new Tree();
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'tmp', 'etc', 'app']) t.dir(d);
  t.hostFile('bin/busybox', '/bin/busybox');
  t.hostFile('usr/bin/node', '/usr/bin/node');
  for (const lib of nodeLibs()) t.hostFile(lib, lib);
  if (fs.existsSync(koffi)) {
    const skip = (s) => !/\/koffi\/doc$/.test(s);
    t.hostTree('app/node_modules/koffi', koffi, skip);
    if (fs.existsSync(koffiNative)) {
      t.hostTree('app/node_modules/@koromix/koffi-linux-x64', koffiNative, (s) => !/musl/.test(s));
    }
  }
  for (const old of fs.readdirSync(cache).filter((f) => /^base-.*\.cpio\.gz$/.test(f))) fs.rmSync(path.join(cache, old));
  fs.writeFileSync(file, t.gz());
  return { file, cached: false };
}

// What exporter/dist imports at run time (the `exporter` command): express,
// yaml, zod (config), bcryptjs (web config), protobufjs + onnxruntime-node
// (models; loaded lazily, the exporter runs without them). Not prom-client
// (the exposition is hand-written), better-sqlite3/playwright-core (report,
// loaded only by `optifiber report`). koffi is in the base part.
const RUNTIME_DEPS = ['express', 'yaml', 'zod', 'bcryptjs', 'protobufjs', ...(WITH_MODELS ? ['onnxruntime-node'] : [])];
// Install-time or type-only dependencies, never imported at run time.
const SKIP_DEPS = new Set(['@types/node', 'adm-zip', 'global-agent', 'koffi']);

/** The closure of RUNTIME_DEPS over package.json dependencies: [name, dir] (root node_modules, hoisted). */
function runtimeDepDirs() {
  const root = path.join(repo, 'node_modules');
  const seen = new Map();
  const visit = (name, fromDir) => {
    if (SKIP_DEPS.has(name) || seen.has(name)) return;
    const nested = path.join(fromDir, 'node_modules', name);
    const dir = fs.existsSync(path.join(nested, 'package.json')) ? nested : path.join(root, name);
    if (!fs.existsSync(path.join(dir, 'package.json'))) throw new Error(`runtime dependency ${name} not installed (npm install)`);
    seen.set(name, dir);
    const pj = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    for (const d of Object.keys(pj.dependencies ?? {})) visit(d, dir);
  };
  for (const d of RUNTIME_DEPS) visit(d, path.join(repo, 'exporter'));
  return [...seen.entries()];
}

// Part 2: the runtime node_modules, cached by package versions.
function depsInitramfs() {
  const deps = runtimeDepDirs();
  const h = createHash('sha256');
  for (const [n, d] of deps) h.update(`${n}@${JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')).version}\n`);
  const libs = ['/lib/x86_64-linux-gnu/librt.so.1'].filter((f) => fs.existsSync(f)); // libonnxruntime needs it, node does not
  h.update(libs.join(',') + 'deps-v2');
  const file = path.join(cache, `deps-${h.digest('hex').slice(0, 16)}.cpio.gz`);
  if (fs.existsSync(file)) return { file, cached: true, count: deps.length };
  const t = new Tree();
  for (const lib of libs) t.hostFile(lib, lib);
  // skip: nested node_modules (visited on their own), other platforms' onnxruntime
  // binaries, docs/tests/examples at a package's top level, markdown, maps, types
  const skip = (pkgDir) => (s, ent) => {
    const b = path.basename(s);
    if (ent.isDirectory()) {
      if (b === 'node_modules') return false;
      if (/\/onnxruntime-node\/bin\/napi-v\d+\/(darwin|win32)$/.test(s) || /\/onnxruntime-node\/bin\/napi-v\d+\/linux\/arm64$/.test(s)) return false;
      return !(path.dirname(s) === pkgDir && ['docs', 'doc', 'test', 'tests', '.github', 'example', 'examples'].includes(b));
    }
    return !/\.(md|map|d\.ts|d\.mts|d\.cts)$/.test(b);
  };
  for (const [, dir] of deps) {
    const rel = path.relative(path.join(repo, 'node_modules'), dir);
    t.hostTree(`app/node_modules/${rel}`, dir, skip(dir));
  }
  for (const old of fs.readdirSync(cache).filter((f) => /^deps-.*\.cpio\.gz$/.test(f))) fs.rmSync(path.join(cache, old));
  fs.writeFileSync(file, t.gz());
  return { file, cached: false, count: deps.length };
}

function initScript(parityParams) {
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
echo 1 > /proc/sys/kernel/printk 2>/dev/null
# stage_end NAME: the dmesg_clean_after_NAME case, and when NAME ended
stage_end() {
  /bin/optifiber_vmtest dmesg "$1"
  echo "VMTEST TIME $1 $(cut -d' ' -f1 /proc/uptime)"
}
# node_check PARAMS SCRIPT: the module loaded with PARAMS while Node runs SCRIPT
node_check() {
  /bin/optifiber_vmtest load /optifiber.ko "$1" && (cd /app && node "$2" 2>&1)
  rmmod optifiber 2>/dev/null
}
echo "VMTEST START $(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"
s=$(cut -d' ' -f1 /proc/uptime); echo "VMTEST TIME boot $s"
/bin/optifiber_vmtest all /optifiber.ko
s=$(cut -d' ' -f1 /proc/uptime); echo "VMTEST TIME functional $s"
if [ -f /veth.ko ] && [ -f /ofnic.ko ]; then
  /bin/optifiber_vmtest iface /optifiber.ko /veth.ko /ofnic.ko
  /bin/optifiber_vmtest dmesg iface
  s=$(cut -d' ' -f1 /proc/uptime); echo "VMTEST TIME iface $s"
fi
if /bin/optifiber_vmtest parity /optifiber.ko "${parityParams}" ${PARITY.max_ticks} /tmp/parity-pages.bin; then
  if [ -x /bin/optifiber-sim ]; then
    h=$(/bin/optifiber-sim hash /tmp/parity-pages.bin 2>&1) && echo "PARITY hash=$h" || echo "PARITY error optifiber-sim hash: $h"
  else
    echo "PARITY error no optifiber-sim in the initramfs"
  fi
fi
stage_end parity
if [ -x /bin/abi-reader-example ]; then
  /bin/abi-reader-example | sed -e 's/^PASS /RESULT PASS /' -e 's/^FAIL /RESULT FAIL /'
elif [ -f /app/exporter/dist/source/page-reader.js ]; then
  node_check "tick_ms=50 seed=7" kernel/tests/vm/reader-check.mjs
else
  echo "READER MISSING exporter/dist/source/page-reader.js"
fi
stage_end reader
if [ -x /bin/abi-reader-example ]; then
  :
elif [ -f /app/exporter/dist/cli.js ]; then
  xi=""
  if [ -f /veth.ko ]; then
    insmod /veth.ko 2>/dev/null
    /bin/optifiber_vmtest veth-add ofx0 ofx1 && xi="ifaces=ofx0:${IFACE_EXPORTER_SITE}" && \\
      export OF_IFACE_SITE=${IFACE_EXPORTER_SITE} OF_IFACE_PEER=ofx1
  fi
  node_check "tick_ms=500 seed=11 $xi" kernel/tests/vm/exporter-check.mjs
else
  echo "EXPORTER MISSING exporter/dist/cli.js"
fi
stage_end exporter
dmesg | grep -E "BUG|Oops|WARNING|Call Trace|optifiber" | sed 's/^/DMESG /' | tail -n 40
echo "VMTEST END"
poweroff -f
`;
}

// arm64 and the debug kernel: busybox and this run's programs; no Node.
function arm64Initramfs(b, arm, parityParams) {
  const t = new Tree();
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'tmp', 'etc']) t.dir(d);
  t.hostFile('bin/busybox', arm.busybox);
  const init = initScript(parityParams).replace('#!/bin/busybox sh', '#!/bin/busybox sh\n# arm64: C cases only')
    .replace('stage_end reader\n', 'stage_end reader_example\n')
    .replace('stage_end exporter\n', '')
    // the module's KUnit suites run at insmod and report in KTAP (dmesg)
    .replace('echo "VMTEST END"', `if [ -f /optifiber_kunit.ko ]; then
  insmod /optifiber_kunit.ko && rmmod optifiber_kunit
  dmesg | sed -n 's/^\\[[^]]*\\] //p' | grep -E '^ *(ok|not ok) [0-9]+ |^ *# .*(pass|fail):|FAILED at' | sed 's/^/KUNIT /'
  /bin/optifiber_vmtest dmesg kunit
fi
echo "VMTEST END"`)
    // no ACPI in the debug kernel: reboot (QEMU runs with -no-reboot) ends the VM
    .replace('poweroff -f', DEBUG ? 'reboot -f' : 'poweroff -f');
  t.file('init', init, 0o100755);
  t.hostFile('optifiber.ko', b.ko);
  t.hostFile('bin/optifiber_vmtest', b.vmtest);
  if (b.simStatic) t.hostFile('bin/optifiber-sim', b.simStatic);
  t.hostFile('bin/abi-reader-example', b.readerExample);
  if (b.kunit) t.hostFile('optifiber_kunit.ko', b.kunit);
  if (b.veth) t.hostFile('veth.ko', b.veth);
  if (b.ofnic) t.hostFile('ofnic.ko', b.ofnic);
  const file = path.join(cache, 'initramfs.cpio.gz');
  fs.writeFileSync(file, t.gz());
  return file;
}

function testInitramfs(b, parityParams) {
  const t = new Tree();
  t.file('init', initScript(parityParams), 0o100755);
  t.hostFile('optifiber.ko', b.ko);
  t.hostFile('bin/optifiber_vmtest', b.vmtest);
  if (b.simStatic) t.hostFile('bin/optifiber-sim', b.simStatic);
  if (b.veth) t.hostFile('veth.ko', b.veth);
  if (b.ofnic) t.hostFile('ofnic.ko', b.ofnic);
  t.hostFile('app/kernel/tests/vm/check.mjs', path.join(here, 'vm', 'check.mjs'));
  t.hostFile('app/kernel/tests/vm/reader-check.mjs', path.join(here, 'vm', 'reader-check.mjs'));
  t.hostFile('app/kernel/tests/vm/exporter-check.mjs', path.join(here, 'vm', 'exporter-check.mjs'));
  if (WITH_MODELS) {
    for (const f of ['anomaly.onnx', 'forecast.onnx']) t.hostFile(`app/exporter/models/${f}`, path.join(repo, 'exporter', 'models', f));
  }
  t.file('app/package.json', JSON.stringify({ type: 'module' }));
  const dist = path.join(repo, 'exporter', 'dist');
  if (fs.existsSync(dist)) {
    t.hostTree('app/exporter/dist', dist, (s) => !s.endsWith('.map'));
    t.hostFile('app/exporter/package.json', path.join(repo, 'exporter', 'package.json'));
  }
  const file = path.join(cache, 'test.cpio.gz');
  fs.writeFileSync(file, t.gz());
  return file;
}

// ---------------------------------------------------------------- 4. boot

// init_on_free=1: the kernel zeroes every page it frees, so a page freed
// while user space still maps it (a missing page reference) reads as zeros,
// and rmmod_while_mapped, which reads magic and names after rmmod, fails.
// Without it a freed but not yet reused page looks intact. The in-VM test
// checks /proc/cmdline for it (boot_checks_active).
const BOOT_CHECKS = 'init_on_free=1';

function boot(vmlinux, initrd) {
  return new Promise((resolve) => {
    // arm64: the virt board, a Cortex-A57 (cheaper under TCG than -cpu max,
    // whose pointer authentication is emulated in software), PL011 console
    // debug kernel: no 5-level paging (la57=off); with it, 6.1's KASAN
    // reports a wild access in rcu_is_watching() during identify_cpu() at
    // boot, before any module is loaded
    const machine = ARM ? ['-M', 'virt', '-cpu', 'cortex-a57'] : ['-cpu', DEBUG ? 'max,la57=off' : 'max'];
    const args = ['-accel', 'tcg,thread=multi', ...machine, '-smp', '2', '-m', '1024',
      '-kernel', vmlinux, '-initrd', initrd, '-nographic', '-no-reboot', '-nodefaults',
      '-serial', 'stdio', '-append', `console=${ARM ? 'ttyAMA0' : 'ttyS0'} panic=-1 quiet ${BOOT_CHECKS}`];
    const q = spawn(ARM ? 'qemu-system-aarch64' : 'qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; q.kill('SIGKILL'); }, TIMEOUT_S * 1000);
    q.stdout.on('data', (d) => {
      const s = d.toString('utf8');
      out += s;
      if (VERBOSE) process.stderr.write(s);
    });
    q.stderr.on('data', (d) => { out += d.toString('utf8'); });
    q.on('close', (code) => {
      clearTimeout(timer);
      resolve({ out: out.replace(/\r/g, ''), code, timedOut });
    });
  });
}

// ------------------------------------------------------------- 5. parity

function parityParams() {
  const p = PARITY;
  return `seed=${p.seed} sim_start=${p.sim_start} fault_rate=${p.fault_rate} time_scale=${p.time_scale} ` +
    `tick_ms=${p.tick_ms} nsites=${p.nsites} max_ticks=${p.max_ticks}`;
}

// The simulator with the same parameters: run until dir.tick == max_ticks
// (it then idles, still attached), hash its page file with its own
// "optifiber-sim hash", stop it.
async function hostParityHash(sim) {
  const p = PARITY;
  const dir = fs.mkdtempSync(path.join(cache, 'parity-'));
  const pages = path.join(dir, 'myinfo');
  const args = ['run', '--fast', '--max-ticks', String(p.max_ticks), '--seed', String(p.seed),
    '--sim-start', String(p.sim_start), '--fault-rate', String(p.fault_rate),
    '--time-scale', String(p.time_scale), '--tick-ms', String(p.tick_ms),
    '--nsites', String(p.nsites), '--dir', dir];
  const child = spawn(sim, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let exited = null;
  child.stderr.on('data', (d) => { err += d; });
  child.stdout.on('data', () => {});
  child.on('exit', (code) => { exited = code; });
  try {
    const deadline = Date.now() + 30000;
    for (;;) {
      if (exited !== null) return { error: `optifiber-sim ${args.join(' ')} exited ${exited}: ${err.trim().split('\n').slice(-2).join(' | ')}` };
      if (Date.now() > deadline) return { error: 'optifiber-sim did not reach max_ticks in 30 s' };
      try {
        const fd = fs.openSync(pages, 'r');
        const b = Buffer.alloc(64);
        fs.readSync(fd, b, 0, 64, 0);
        fs.closeSync(fd);
        // struct optifiber_dir: seq @0, tick @40 (u64)
        if (b.readUInt32LE(4) === 0x5242464f && b.readUInt32LE(0) % 2 === 0 && b.readBigUInt64LE(40) === BigInt(p.max_ticks)) break;
      } catch { /* not there yet */ }
      await new Promise((r) => setTimeout(r, 20));
    }
    const h = run(sim, ['hash', pages], { allowFail: true });
    if (h.status !== 0) return { error: `optifiber-sim hash: ${h.stderr.trim()}` };
    return { line: h.stdout.trim() };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (exited !== null ? r() : child.on('exit', r)));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------ 6. link down to alert

/**
 * OptiFiberLinkDown from the VM's two scrapes of the interface-backed site
 * (link up, then its veth's far end down), through the real rule file and
 * promtool: the series' values are the scraped ones, Prometheus' job and
 * instance labels are added. undefined: nothing to judge (the VM case
 * exporter_iface_link_down reports why).
 */
function linkDownAlert(upScrape, downScrape, site) {
  if (typeof downScrape !== 'string' || typeof upScrape !== 'string') return downScrape?.error ? `scrape: ${downScrape.error}` : undefined;
  if (!which('promtool')) return 'promtool not installed on the host (apt-get install prometheus)';
  const key = `optifiber_link_up{site="${site}"}`;
  const value = (text) => {
    const line = text.split('\n').find((l) => l.startsWith(`${key} `));
    return line === undefined ? undefined : Number(line.slice(key.length + 1));
  };
  const up = value(upScrape);
  const down = value(downScrape);
  if (up !== 1 || down !== 0) return `scraped ${key}: ${up} with the link up, ${down} with it down (want 1, 0)`;
  const rules = path.join(repo, 'prometheus', 'rules', 'optifiber-alerts.yml');
  const dir = fs.mkdtempSync(path.join(cache, 'linkdown-'));
  const test = `rule_files: [${JSON.stringify(rules)}]
evaluation_interval: 1s
tests:
  - interval: 1s
    input_series:
      - series: 'optifiber_link_up{job="optifiber",instance="vm",site="${site}"}'
        values: '${up}x10 ${down}x20'
    alert_rule_test:
      - {eval_time: 10s, alertname: OptiFiberLinkDown, exp_alerts: []}
      - eval_time: 20s
        alertname: OptiFiberLinkDown
        exp_alerts:
          - exp_labels: {severity: critical, job: optifiber, instance: vm, site: ${site}}
            exp_annotations:
              summary: "DWDM link at ${site} is down"
              description: "The ${site} link has reported state down (loss of signal or frame) for at least 5 s. Anomaly, BER, OSNR and optical-power alerts of this site are inhibited while it lasts."
              runbook_path: OptiFiberLinkDown.md
              dashboard_path: "d/optifiber-site?var-site=${site}"
`;
  const file = path.join(dir, 'linkdown.test.yml');
  fs.writeFileSync(file, test);
  const r = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  return r.status === 0 ? null : `promtool test rules: ${(r.stdout + r.stderr).trim().split('\n').slice(-4).join(' | ')}`;
}

// ----------------------------------------------------------------- main

async function main() {
  const results = new Map(); // case -> null (pass) | reason
  const ver = ensurePrereqs();
  let t = Date.now();
  const arm = ARM ? ensureArm64(ver) : DEBUG ? ensureDebugKernel() : null;
  const vmlinux = arm ? arm.image : ensureVmlinux(ver);
  timings.prereqs = Date.now() - t0;

  t = Date.now();
  const b = build(ver, arm);
  timings.build = Date.now() - t;

  t = Date.now();
  let initrd;
  if (C_ONLY) {
    initrd = arm64Initramfs(b, arm, parityParams());
    timings.initramfs = Date.now() - t;
    log(`initramfs ${(fs.statSync(initrd).size / 1048576).toFixed(1)} MiB (busybox, C tests)`);
  } else {
  const base = baseInitramfs();
  const deps = depsInitramfs();
  const test = testInitramfs(b, parityParams());
  initrd = path.join(cache, 'initramfs.cpio.gz');
  fs.writeFileSync(initrd, Buffer.concat([fs.readFileSync(base.file), fs.readFileSync(deps.file), fs.readFileSync(test)]));
  timings.initramfs = Date.now() - t;
  const mib = (f) => (fs.statSync(f).size / 1048576).toFixed(1);
  log(`initramfs ${mib(initrd)} MiB: base ${mib(base.file)} MiB (${base.cached ? 'cached' : 'built'}), ` +
    `exporter deps ${mib(deps.file)} MiB (${deps.count} packages${WITH_MODELS ? ', onnxruntime-node' : ', no models'}; ${deps.cached ? 'cached' : 'built'}), ` +
    `test ${mib(test)} MiB, in ${secs(timings.initramfs)}`);
  }

  // host side of the parity check, while nothing else runs
  let hostParity = null;
  if (b.sim) {
    t = Date.now();
    hostParity = await hostParityHash(b.sim);
    timings.hostParity = Date.now() - t;
  }

  log(`booting ${path.basename(vmlinux)} under QEMU TCG (timeout ${TIMEOUT_S} s)`);
  t = Date.now();
  const vm = await boot(vmlinux, initrd);
  timings.vm = Date.now() - t;
  fs.writeFileSync(path.join(cache, 'last-console.log'), vm.out);

  const lines = vm.out.split('\n');
  const info = [];
  let vmParity = null;
  let vmMetrics = null;
  let vmLinkDown = null;
  let kunitSeen = false;
  const kunitWhy = [];
  for (const line of lines) {
    let m;
    if ((m = /^EXPORTER_METRICS_GZ_B64 (\S+)$/.exec(line))) {
      try { vmMetrics = zlib.gunzipSync(Buffer.from(m[1], 'base64')).toString('utf8'); } catch (e) { vmMetrics = { error: e.message }; }
    } else if ((m = /^EXPORTER_LINKDOWN_GZ_B64 (\S+)$/.exec(line))) {
      try { vmLinkDown = zlib.gunzipSync(Buffer.from(m[1], 'base64')).toString('utf8'); } catch (e) { vmLinkDown = { error: e.message }; }
    } else if ((m = /^KUNIT (\s*)(ok|not ok) \d+ (?:- )?(\S+)/.exec(line))) {
      // KTAP: indented lines are cases, unindented ones suites
      kunitSeen = true;
      results.set(`kunit_${m[1] ? '' : 'suite_'}${m[3]}`, m[2] === 'ok' ? null : `KUnit: not ok (${kunitWhy.at(-1) ?? 'see the console log'})`);
    } else if ((m = /^KUNIT (.*)$/.exec(line))) {
      if (/FAILED at/.test(m[1])) kunitWhy.push(m[1].trim());
      info.push(`INFO kunit: ${m[1].trim()}`);
    } else if ((m = /^RESULT (PASS|FAIL) (\S+)(?:: (.*))?$/.exec(line))) {
      results.set(m[2], m[1] === 'PASS' ? null : (m[3] || 'failed'));
    } else if ((m = /^PARITY (.*)$/.exec(line))) {
      vmParity = m[1];
    } else if (/^(INFO|VMTEST TIME|DMESG|READER|EXPORTER)/.test(line)) {
      info.push(line);
    }
  }

  if (DEBUG) {
    results.set('kunit', !b.kunit ? 'optifiber_kunit.ko was not built (is CONFIG_KUNIT set in the debug kernel?)'
      : kunitSeen ? null : 'no KTAP results from optifiber_kunit.ko on the console');
  }

  // parity verdict
  if (!hostParity) {
    results.set('parity', 'kernel/userspace/optifiber-sim.c missing: no host simulator to compare with');
  } else if (hostParity.error) {
    results.set('parity', hostParity.error);
  } else if (!vmParity || !vmParity.startsWith('hash=')) {
    results.set('parity', `VM did not hash its pages (${vmParity ?? 'no PARITY line'})`);
  } else {
    const kh = /hash=(\S+)/.exec(vmParity)[1];
    const hh = hostParity.line;
    results.set('parity', kh === hh ? null : `kernel hash ${kh} != userspace hash ${hh}`);
    info.push(`INFO parity: ${PARITY.max_ticks} ticks, ${PARITY.nsites} sites: kernel ${kh}, userspace ${hh}`);
  }

  // the VM's scrape through promtool on the host
  if (typeof vmMetrics === 'string') {
    if (!which('promtool')) results.set('exporter_metrics_lint', 'promtool not installed on the host (apt-get install prometheus)');
    else {
      const r = spawnSync('promtool', ['check', 'metrics'], { input: vmMetrics, encoding: 'utf8' });
      const out = (r.stdout + r.stderr).trim();
      results.set('exporter_metrics_lint', r.status === 0 && out === '' ? null : `promtool: ${out.split('\n').slice(0, 3).join(' | ')}`);
      info.push(`INFO exporter: promtool check metrics on the VM's scrape (${vmMetrics.length} bytes): ${r.status === 0 && out === '' ? 'silent' : out.split('\n')[0]}`);
    }
  } else if (vmMetrics) {
    results.set('exporter_metrics_lint', `could not decode the VM's scrape: ${vmMetrics.error}`);
  }

  if (IFACE && !C_ONLY) {
    const r = linkDownAlert(vmMetrics, vmLinkDown, IFACE_EXPORTER_SITE);
    if (r !== undefined) results.set('exporter_link_down_alert', r);
  }

  for (const l of info) log(l);
  const ended = vm.out.includes('VMTEST END');
  if (!ended) log(`VM did not finish (${vm.timedOut ? `timeout ${TIMEOUT_S} s` : `qemu exit ${vm.code}`}); console tail:\n${lines.slice(-30).join('\n')}`);

  if (vm.out.includes('READER MISSING')) {
    for (const c of READER_CASES) results.set(c, 'exporter/dist/source/page-reader.js missing (npx tsc -b exporter)');
  }
  if (vm.out.includes('EXPORTER MISSING')) {
    for (const c of EXPORTER_CASES) results.set(c, 'exporter/dist/cli.js missing (npx tsc -b exporter)');
  }
  let pass = 0;
  let fail = 0;
  const why = vm.timedOut ? `VM timed out after ${TIMEOUT_S} s` : ended ? 'never reported' : `VM stopped early (qemu exit ${vm.code})`;
  const ALL = [...VM_CASES, ...(IFACE ? IFACE_CASES : []), 'parity', 'dmesg_clean_after_parity',
    ...(DEBUG ? ['kunit', 'dmesg_clean_after_kunit'] : []),
    ...(C_ONLY ? ['reader_example_waits_for_writer', 'reader_example_no_torn_copy', 'dmesg_clean_after_reader_example'] : [...READER_CASES, ...EXPORTER_CASES, ...(IFACE ? IFACE_EXPORTER_CASES : [])])];
  if (!results.has('exporter_metrics_lint') && results.get('exporter_metrics_match_pages') !== undefined) {
    results.set('exporter_metrics_lint', 'no scrape from the VM (exporter_metrics_match_pages did not pass)');
  }
  for (const c of ALL) {
    const r = results.has(c) ? results.get(c) : why;
    if (r === null) { pass++; console.log(`PASS ${LABEL}: ${c}`); } else { fail++; console.log(`FAIL ${LABEL}: ${c}: ${r}`); }
  }
  for (const [c, r] of results) {
    if (ALL.includes(c)) continue;
    if (r === null) { pass++; console.log(`PASS ${LABEL}: ${c}`); } else { fail++; console.log(`FAIL ${LABEL}: ${c}: ${r}`); }
  }
  timings.total = Date.now() - t0;
  log(`timings: prereqs ${secs(timings.prereqs)}, build ${secs(timings.build)}, initramfs ${secs(timings.initramfs)}` +
    `${timings.hostParity !== undefined ? `, host parity ${secs(timings.hostParity)}` : ''}, VM ${secs(timings.vm)}, total ${secs(timings.total)}`);
  console.log(`${pass} passed, ${fail} failed (Linux ${arm ? arm.name : ver}, ${ARCH})`);
  process.exitCode = fail ? 1 : 0;
}

main().catch((e) => {
  console.log(`FAIL ${LABEL}: harness: ${e.message.split('\n')[0]}`);
  console.error(e.message);
  console.log('0 passed, 1 failed');
  process.exitCode = 1;
});
