import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LiveMessage } from '../src/live/messages';
import { CLOSE_UNAUTHORIZED, LiveSocket, type LiveStatus, backoffDelay } from '../src/live/socket';

class FakeSocket {
  static made: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: ((event: Event) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  constructor(public url: string) {
    FakeSocket.made.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code } as CloseEvent);
  }
  receive(data: unknown) {
    this.onmessage?.({ data: JSON.stringify(data) } as MessageEvent);
  }
}

describe('live socket', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.made = [];
  });
  afterEach(() => vi.useRealTimers());

  function start(extra: Partial<ConstructorParameters<typeof LiveSocket>[0]> = {}) {
    const statuses: LiveStatus[] = [];
    const messages: LiveMessage[] = [];
    const socket = new LiveSocket({
      url: 'ws://127.0.0.1:8080/ws',
      getToken: () => 'tok en',
      onMessage: (message) => messages.push(message),
      onStatus: (status) => statuses.push(status),
      createSocket: (url) => new FakeSocket(url),
      random: () => 0,
      ...extra,
    });
    socket.start();
    return { socket, statuses, messages };
  }

  it('connects with the token in the query and reports Live', () => {
    const { statuses } = start();
    expect(FakeSocket.made).toHaveLength(1);
    expect(new URL(FakeSocket.made[0].url).searchParams.get('token')).toBe('tok en');
    FakeSocket.made[0].open();
    expect(statuses).toEqual(['live']);
  });

  it('reconnects with growing delays and resets them after a good connection', () => {
    const onReconnected = vi.fn();
    const { statuses } = start({ onReconnected });
    FakeSocket.made[0].open();
    FakeSocket.made[0].drop();
    expect(statuses.at(-1)).toBe('reconnecting');
    vi.advanceTimersByTime(249);
    expect(FakeSocket.made).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.made).toHaveLength(2);
    FakeSocket.made[1].drop();
    vi.advanceTimersByTime(499);
    expect(FakeSocket.made).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.made).toHaveLength(3);
    FakeSocket.made[2].open();
    expect(statuses.at(-1)).toBe('live');
    expect(onReconnected).toHaveBeenCalledTimes(1);
    FakeSocket.made[2].drop();
    vi.advanceTimersByTime(250);
    expect(FakeSocket.made).toHaveLength(4);
  });

  it('caps the backoff at 30 seconds with jitter in the upper half', () => {
    expect(backoffDelay(0, () => 0)).toBe(250);
    expect(backoffDelay(0, () => 1)).toBe(500);
    expect(backoffDelay(20, () => 0)).toBe(15_000);
    expect(backoffDelay(20, () => 1)).toBe(30_000);
  });

  it('passes parsed frames on, pings while open, and tells about a refused token', () => {
    const onUnauthorized = vi.fn();
    const { messages } = start({ onUnauthorized });
    const ws = FakeSocket.made[0];
    ws.open();
    ws.receive({ type: 'pong' });
    ws.receive({ nonsense: true });
    expect(messages).toEqual([{ type: 'pong' }]);
    vi.advanceTimersByTime(25_000);
    expect(ws.sent.map((text) => JSON.parse(text))).toEqual([{ action: 'ping' }]);
    ws.drop(CLOSE_UNAUTHORIZED);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('stops for good', () => {
    const { socket } = start();
    FakeSocket.made[0].open();
    socket.stop();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(1);
  });
});
