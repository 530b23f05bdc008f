import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MirrorGuardError } from '@mirrorguard/core';

/** Readable and writable by the owner only: a recording holds what other services answered. */
export const RECORDING_FILE_MODE = 0o600;

// O_NOFOLLOW is not defined on Windows; O_EXCL refuses an existing path (a symbolic link too) anyway.
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/**
 * Writes a recording whole, or not at all, and never through a symbolic link: into a new file with
 * an unpredictable name beside `file` (created exclusively, mode 0600, so a link planted there makes
 * it fail instead of being followed), flushed to disk, then renamed over `file`. A symbolic link (or
 * anything but a regular file) at `file` is refused with `MG_ERR_HTTP_RECORDING_UNSAFE`; the rename
 * itself replaces a directory entry and never writes through one.
 */
export async function writeRecordingFile(file: string, text: string, temporaryName: string = `.${basename(file)}.${randomBytes(16).toString('hex')}.tmp`): Promise<void> {
  const folder = dirname(file);
  await mkdir(folder, { recursive: true });
  const existing = await lstat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing !== undefined && !existing.isFile()) {
    throw new MirrorGuardError('MG_ERR_HTTP_RECORDING_UNSAFE', `${file} is ${existing.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}: a recording is never written through one (remove it, or record to another path)`);
  }
  const temporary = join(folder, temporaryName);
  // Fails (EEXIST, ELOOP) on anything already there, which is then left alone.
  const handle = await open(temporary, CREATE_NEW, RECORDING_FILE_MODE);
  try {
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
