// The few libc calls node's fs lacks (mmap/munmap), bound with koffi, plus
// open/close so the fd we map is the one we fstat. Failures become
// SyscallError with the errno name: "mmap /proc/optifiber/myinfo: EACCES".
import { constants as osConstants } from 'node:os';
import koffi from 'koffi';
import { SyscallError } from './errors.js';

// Linux values, identical on x86_64 and aarch64.
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const PROT_READ = 0x1;
const MAP_SHARED = 0x01;
const MAP_FAILED = 0xffff_ffff_ffff_ffffn; // (void *)-1

const libc = koffi.load('libc.so.6');
const c_open = libc.func('int open(const char *path, int flags)');
const c_close = libc.func('int close(int fd)');
// void * comes back as a bigint address in koffi 3; keep it that way.
const c_mmap = libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)');
const c_munmap = libc.func('int munmap(void *addr, size_t length)');
const c_lseek = libc.func('int64_t lseek(int fd, int64_t offset, int whence)');
const SEEK_END = 2;

const errnoNames = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, value]) => [value, name]),
);

function fail(syscall: string, path: string): never {
  const errno = koffi.errno();
  throw new SyscallError(syscall, path, errno, errnoNames.get(errno) ?? `errno ${errno}`);
}

/** open(path, O_RDONLY | O_CLOEXEC); returns the fd. */
export function openReadOnly(path: string): number {
  const fd = c_open(path, O_RDONLY | O_CLOEXEC) as number;
  if (fd < 0) fail('open', path);
  return fd;
}

export function closeFd(fd: number, path: string): void {
  if ((c_close(fd) as number) !== 0) fail('close', path);
}

/** A read-only shared mapping and a zero-copy ArrayBuffer over it. */
export interface Mapping {
  readonly address: bigint;
  readonly length: number;
  readonly buffer: ArrayBuffer;
}

/** mmap(NULL, length, PROT_READ, MAP_SHARED, fd, 0). */
export function mapShared(fd: number, length: number, path: string): Mapping {
  const address = c_mmap(null, length, PROT_READ, MAP_SHARED, fd, 0) as bigint;
  if (address === MAP_FAILED) fail('mmap', path);
  return { address, length, buffer: koffi.view(address, length) };
}

/** munmap; the caller must drop every view of `mapping.buffer` first (reading it after this faults). */
export function unmap(mapping: Mapping, path: string): void {
  if ((c_munmap(mapping.address, mapping.length) as number) !== 0) fail('munmap', path);
}

/**
 * The current size of the file behind fd: lseek(fd, 0, SEEK_END), one
 * syscall without a Stats object (the page reader asks before every
 * snapshot; nothing reads through this fd, so moving its offset is harmless).
 * -1 when it fails.
 */
export function fileSize(fd: number): number {
  return Number(c_lseek(fd, 0, SEEK_END));
}
