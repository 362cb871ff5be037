/** Coalesces writes that arrive together (one per worker) into one store call, so each is durable before its worker moves on, at the cost of one transaction per group. */

export interface WriteCoalescer<T, R> {
  /** Queues an item; resolves with the result of the store call that wrote it. */
  push(item: T): Promise<R>;
  /** Resolves when everything queued so far is written. */
  flush(): Promise<void>;
}

export function createWriteCoalescer<T, R>(write: (items: T[]) => Promise<R>): WriteCoalescer<T, R> {
  let queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  let running: Promise<void> | null = null;

  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const group = queue;
      queue = [];
      try {
        const result = await write(group.map((g) => g.item));
        for (const g of group) g.resolve(result);
      } catch (error) {
        for (const g of group) g.reject(error);
      }
    }
    running = null;
  };

  const schedule = () => {
    // Wait one macrotask so the items pushed by all workers in this turn share one write.
    running ??= new Promise<void>((resolve) => setImmediate(resolve)).then(drain);
    return running;
  };

  return {
    push(item: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        void schedule();
      });
    },
    async flush(): Promise<void> {
      while (running || queue.length > 0) await (running ?? schedule());
    },
  };
}
