// A small file read again when it changes: on use, at most every `intervalMs`, its identity
// (inode, size, mtime) is compared with the one last read. Every process of a worker does this
// by itself, so a change reaches each of them without any message between them.
import { readFileSync, statSync } from 'node:fs';

export class WatchedFile<T> {
  private value: T;
  private stamp: string;
  private checkedAt = 0;

  /**
   * Reads the file once (a missing or unparsable file throws: a worker does not start on one).
   * Later failures keep the previous value and are reported to `onError`.
   */
  constructor(
    readonly path: string,
    private readonly parse: (text: string) => T,
    private readonly intervalMs = 1000,
    private readonly onError: (e: Error) => void = () => undefined,
    private readonly onReload: () => void = () => undefined,
  ) {
    this.stamp = stampOf(path);
    this.value = parse(readFileSync(path, 'utf8'));
  }

  /** The current value, re-read first when the interval passed and the file changed. */
  get(): T {
    const now = Date.now();
    if (now - this.checkedAt >= this.intervalMs) {
      this.checkedAt = now;
      this.refresh();
    }
    return this.value;
  }

  private refresh(): void {
    try {
      const stamp = stampOf(this.path);
      if (stamp === this.stamp) return;
      this.value = this.parse(readFileSync(this.path, 'utf8'));
      this.stamp = stamp;
      this.onReload();
    } catch (e) {
      this.onError(e as Error);
    }
  }
}

function stampOf(path: string): string {
  const s = statSync(path, { bigint: true });
  return `${s.ino}:${s.size}:${s.mtimeNs}`;
}
