// Times every call to an under-storage (for strata_ufs_* metrics) without the adapters or the
// object service knowing: a Proxy around the adapter whose methods report op, duration, success.
import type { UnderStorage } from '../ufs/ufs.js';

export type UfsObserver = (mount: string, op: string, seconds: number, ok: boolean) => void;

/** Calls that are bookkeeping, not storage requests. */
const UNTIMED = new Set(['forget', 'close', 'uri', 'rootFolder', 'fsync', 'checkKey']);

export function instrumented(storage: UnderStorage, mount: string, observe: UfsObserver): UnderStorage {
  return new Proxy(storage, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string' || UNTIMED.has(prop)) return value;
      return (...args: unknown[]) => {
        const started = process.hrtime.bigint();
        const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
        try {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (result instanceof Promise) {
            return result.then(
              (v) => {
                observe(mount, prop, seconds(), true);
                return v;
              },
              (e) => {
                observe(mount, prop, seconds(), false);
                throw e;
              },
            );
          }
          return result;
        } catch (e) {
          observe(mount, prop, seconds(), false);
          throw e;
        }
      };
    },
  });
}
