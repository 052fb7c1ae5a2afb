/**
 * A server-wide cap on upload bytes held in memory, shared by every upload.
 * Bytes are reserved as they arrive and released once stored, so a stalled
 * stream holds only what it actually sent. Object stores may buffer a whole
 * segment before sending it (S3 signs each part's payload), so without a cap
 * memory would grow with the number of concurrent uploads; with it, an upload
 * waits for room, stops reading its stream, and HTTP/2 flow control pushes
 * back on its client.
 *
 * Waiters are served first come, first served, except that an organisation
 * holding at least its fair share (capacity / organisations holding or
 * waiting) lets other organisations' waiters go first.
 *
 * Reserving per chunk could deadlock: every stream holds part of a segment it
 * cannot finish, and waits. When nothing is on its way out (no sealed bytes
 * whose store is in flight) and the head waiter holds bytes, that one stream
 * may overdraw until it seals or releases: memory stays within capacity plus
 * one segment.
 */

interface Waiter {
  account: BudgetAccount;
  bytes: number;
  grant: () => void;
}

export interface BudgetStats {
  capacity: number;
  inUse: number;
  waiters: number;
}

export class ByteBudget {
  #inUse = 0;
  /** Held bytes already on their way to storage: their release needs no more input. */
  #sealed = 0;
  readonly #waiting: Waiter[] = [];
  /** Bytes held, per organisation; an entry exists while it holds or waits. */
  readonly #byOrg = new Map<string, { held: number; waiting: number }>();
  #overdraft: BudgetAccount | undefined;

  constructor(readonly capacity: number) {}

  /** One stream's share of the budget; close() it on every exit. */
  account(orgId: string): BudgetAccount {
    return new BudgetAccount(this, orgId);
  }

  stats(): BudgetStats {
    return { capacity: this.capacity, inUse: this.#inUse, waiters: this.#waiting.length };
  }

  /** @internal Resolves once `bytes` are reserved; rejects with `signal.reason` when it aborts first. */
  async _take(account: BudgetAccount, bytes: number, signal: AbortSignal | undefined): Promise<number> {
    const wanted = Math.min(bytes, this.capacity);
    signal?.throwIfAborted();
    const waiter: Waiter = { account, bytes: wanted, grant: () => undefined };
    const granted = new Promise<void>((resolve) => (waiter.grant = resolve));
    this.#waiting.push(waiter);
    this.#org(account.orgId).waiting++;
    this.#pump();
    if (this.#waiting.includes(waiter) && signal) {
      const aborted = new Promise<never>((_, reject) => {
        const onAbort = () => {
          this.#drop(waiter);
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        void granted.then(() => signal.removeEventListener("abort", onAbort));
      });
      await Promise.race([granted, aborted]);
    } else {
      await granted;
    }
    return wanted;
  }

  /** @internal */
  _seal(bytes: number): void {
    this.#sealed += bytes;
    this.#pump();
  }

  /** @internal Returns held bytes, `sealed` of them sealed before. */
  _release(account: BudgetAccount, bytes: number, sealed: number): void {
    this.#inUse -= bytes;
    this.#sealed -= sealed;
    const org = this.#org(account.orgId);
    org.held -= bytes;
    this.#forget(account.orgId);
    this.#pump();
  }

  /** @internal The account sealed or released: its overdraft, if any, has done its job. */
  _settled(account: BudgetAccount): void {
    if (this.#overdraft === account) this.#overdraft = undefined;
  }

  #org(orgId: string) {
    let org = this.#byOrg.get(orgId);
    if (!org) this.#byOrg.set(orgId, (org = { held: 0, waiting: 0 }));
    return org;
  }

  #forget(orgId: string): void {
    const org = this.#byOrg.get(orgId);
    if (org && org.held === 0 && org.waiting === 0) this.#byOrg.delete(orgId);
  }

  #drop(waiter: Waiter): void {
    const at = this.#waiting.indexOf(waiter);
    if (at < 0) return;
    this.#waiting.splice(at, 1);
    this.#org(waiter.account.orgId).waiting--;
    this.#forget(waiter.account.orgId);
    this.#pump();
  }

  /** The waiter to serve next: the first whose organisation holds less than its fair share, else the first. */
  #next(): Waiter | undefined {
    const share = this.capacity / Math.max(1, this.#byOrg.size);
    const othersWait = (orgId: string) => this.#waiting.some((w) => w.account.orgId !== orgId);
    return this.#waiting.find((w) => !(this.#org(w.account.orgId).held >= share && othersWait(w.account.orgId))) ?? this.#waiting[0];
  }

  #pump(): void {
    for (let next = this.#next(); next; next = this.#next()) {
      if (this.#inUse + next.bytes > this.capacity) {
        if (this.#overdraft === undefined && this.#sealed === 0) {
          this.#overdraft = this.#waiting.find((w) => w.account.held > 0)?.account;
        }
        const overdrawing = this.#waiting.find((w) => w.account === this.#overdraft);
        if (!overdrawing) return;
        next = overdrawing;
      }
      this.#waiting.splice(this.#waiting.indexOf(next), 1);
      const org = this.#org(next.account.orgId);
      org.waiting--;
      org.held += next.bytes;
      this.#inUse += next.bytes;
      next.account._granted(next.bytes);
      next.grant();
    }
  }
}

/**
 * What one stream holds of the budget. `take` as bytes arrive, `seal` when
 * they are handed to a store call that will finish without more input,
 * `release` when that call settles, `close` on every exit.
 */
export class BudgetAccount {
  #held = 0;
  #sealed = 0;

  constructor(
    readonly budget: ByteBudget,
    readonly orgId: string,
  ) {}

  get held(): number {
    return this.#held;
  }

  /** Waits until `bytes` are reserved for this stream; rejects with `signal.reason` if it aborts first. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    await this.budget._take(this, bytes, signal);
  }

  /** @internal */
  _granted(bytes: number): void {
    this.#held += bytes;
  }

  /** Marks `bytes` of what this stream holds as on their way to storage. */
  seal(bytes: number): void {
    const n = Math.min(bytes, this.#held - this.#sealed);
    this.#sealed += n;
    this.budget._settled(this);
    this.budget._seal(n);
  }

  /** Returns `bytes` (sealed ones first) to the budget. */
  release(bytes: number): void {
    const n = Math.min(bytes, this.#held);
    const sealed = Math.min(n, this.#sealed);
    this.#held -= n;
    this.#sealed -= sealed;
    this.budget._settled(this);
    this.budget._release(this, n, sealed);
  }

  /** Returns everything this stream still holds. Idempotent. */
  close(): void {
    if (this.#held > 0) this.release(this.#held);
    this.budget._settled(this);
  }
}
