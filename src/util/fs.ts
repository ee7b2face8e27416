/**
 * Small filesystem predicates shared across modules.
 * @module
 */
import { access } from 'node:fs/promises';

/** Whether `path` exists (a dangling symlink does not); never rejects. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
