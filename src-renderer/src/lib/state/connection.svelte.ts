/**
 * The link to the engine as the page shows it: web mode's WebSocket can drop (server restarted, network gone) and
 * heals itself (WsClient reconnects with backoff); this mirrors its status for the banner and tells the editor when
 * it is back, so work kept in the page meanwhile is written out. Electron's IPC never drops: no source, always open.
 */
import type { ConnectionStatus } from '../../../../src-main/shared/ws-client';

/** What WsClient offers about its connection (Electron has none). */
export interface ConnectionSource {
  readonly connection: ConnectionStatus;
  onConnection(listener: (s: ConnectionStatus) => void): () => void;
  retryNow(): void;
}

export class Connection {
  readonly #source: ConnectionSource | undefined;
  #status = $state.raw<ConnectionStatus>({ state: 'open', attempt: 0 });
  // Not state: callbacks to run, never rendered.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #onBack = new Set<() => void>();

  constructor(source?: ConnectionSource) {
    this.#source = source;
    if (!source) return;
    this.#status = source.connection;
    source.onConnection((s) => {
      const wasDown = this.#status.state !== 'open';
      this.#status = s;
      if (wasDown && s.state === 'open') for (const f of [...this.#onBack]) f();
    });
  }

  get status(): ConnectionStatus {
    return this.#status;
  }
  /** False while the engine cannot be reached (calls fail with 'disconnected' at once). */
  get online(): boolean {
    return this.#status.state === 'open';
  }

  /** Run `f` each time the connection comes back after a loss. */
  onReconnected(f: () => void): void {
    this.#onBack.add(f);
  }

  /** Try again now instead of waiting out the backoff. */
  retry(): void {
    this.#source?.retryNow();
  }
}
