/** errno numbers of Linux x86_64 (asm-generic/errno-base.h, errno.h) and their names. */
const NAMES: readonly string[] = [
  'OK', 'EPERM', 'ENOENT', 'ESRCH', 'EINTR', 'EIO', 'ENXIO', 'E2BIG', 'ENOEXEC', 'EBADF',
  'ECHILD', 'EAGAIN', 'ENOMEM', 'EACCES', 'EFAULT', 'ENOTBLK', 'EBUSY', 'EEXIST', 'EXDEV',
  'ENODEV', 'ENOTDIR', 'EISDIR', 'EINVAL', 'ENFILE', 'EMFILE', 'ENOTTY', 'ETXTBSY', 'EFBIG',
  'ENOSPC', 'ESPIPE', 'EROFS', 'EMLINK', 'EPIPE', 'EDOM', 'ERANGE', 'EDEADLK', 'ENAMETOOLONG',
  'ENOLCK', 'ENOSYS', 'ENOTEMPTY', 'ELOOP',
];
const EXTRA: Readonly<Record<number, string>> = {
  61: 'ENODATA', 75: 'EOVERFLOW', 95: 'EOPNOTSUPP', 110: 'ETIMEDOUT', 121: 'EREMOTEIO',
  524: 'ENOTSUPP', 133: 'EHWPOISON',
};

export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EEXIST = 17;
export const ENODEV = 19;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const EMFILE = 24;
export const ENOTTY = 25;
export const ENOSYS = 38;
export const EOPNOTSUPP = 95;

/** "EINVAL" for 22; "errno 200" for a number this table does not know. */
export function errnoName(errno: number): string {
  return NAMES[errno] ?? EXTRA[errno] ?? `errno ${errno}`;
}
