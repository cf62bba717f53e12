/** One WebSocket to the live-update hub, reconnecting with capped exponential backoff and jitter. */
import { type LiveMessage, parseLiveMessage } from './messages';

export type LiveStatus = 'live' | 'reconnecting';

/** Close code the hub uses for a missing or bad token. */
export const CLOSE_UNAUTHORIZED = 4401;
const PING_EVERY_MS = 25_000;
const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;

type SocketLike = Pick<WebSocket, 'send' | 'close' | 'readyState'> & {
  onopen: ((event: Event) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
};

export interface LiveSocketOptions {
  url: string;
  getToken: () => string | null;
  onMessage: (message: LiveMessage) => void;
  onStatus: (status: LiveStatus) => void;
  /** The hub refused the token; the caller re-checks the session. */
  onUnauthorized?: () => void;
  /** Called after a reconnect so the caller can catch up on what it missed. */
  onReconnected?: () => void;
  createSocket?: (url: string) => SocketLike;
  random?: () => number;
}

export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** attempt);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export function socketUrl(base: string, token: string): string {
  const url = new URL(base, window.location.href);
  url.searchParams.set('token', token);
  return url.toString();
}

export class LiveSocket {
  private socket: SocketLike | null = null;
  private attempt = 0;
  private everOpened = false;
  private stopped = true;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private readonly options: LiveSocketOptions;

  constructor(options: LiveSocketOptions) {
    this.options = options;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, 'bye');
    }
  }

  private connect(): void {
    const token = this.options.getToken();
    if (!token) {
      this.scheduleRetry();
      return;
    }
    const create = this.options.createSocket ?? ((url: string) => new WebSocket(url) as SocketLike);
    let socket: SocketLike;
    try {
      socket = create(socketUrl(this.options.url, token));
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      const reconnected = this.everOpened;
      this.attempt = 0;
      this.everOpened = true;
      this.options.onStatus('live');
      this.pingTimer = setInterval(() => this.send({ action: 'ping' }), PING_EVERY_MS);
      if (reconnected) this.options.onReconnected?.();
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== 'string') return;
      const message = parseLiveMessage(event.data);
      if (message) this.options.onMessage(message);
    };
    socket.onerror = () => {
      // onclose follows and does the bookkeeping.
    };
    socket.onclose = (event) => {
      this.socket = null;
      this.clearTimers();
      if (this.stopped) return;
      this.options.onStatus('reconnecting');
      if (event.code === CLOSE_UNAUTHORIZED) this.options.onUnauthorized?.();
      this.scheduleRetry();
    };
  }

  private send(payload: unknown): void {
    if (this.socket && this.socket.readyState === 1) this.socket.send(JSON.stringify(payload));
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt, this.options.random);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.retryTimer = null;
    this.pingTimer = null;
  }
}
