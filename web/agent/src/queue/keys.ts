/** Queue keyboard shortcuts: j/k move, Enter opens, r opens with the reply box focused, x toggles selection. */
import { useEffect, useRef } from 'react';

export type QueueKeyAction = 'next' | 'previous' | 'open' | 'reply' | 'toggle';

interface KeyLike {
  key: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  target: EventTarget | null;
}

function isEditable(target: EventTarget | null): boolean {
  if (!target || !(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (target as HTMLInputElement).type;
    return type !== 'checkbox' && type !== 'radio' && type !== 'button';
  }
  return false;
}

function inDialog(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && Boolean(target.closest('[role="dialog"], [role="alertdialog"]'));
}

export function queueKeyAction(event: KeyLike): QueueKeyAction | null {
  if (event.altKey || event.ctrlKey || event.metaKey) return null;
  if (isEditable(event.target) || inDialog(event.target)) return null;
  switch (event.key) {
    case 'j':
      return 'next';
    case 'k':
      return 'previous';
    case 'Enter':
      // Enter on a link or button does what that control does.
      if (event.target instanceof HTMLElement && event.target.closest('a, button')) return null;
      return 'open';
    case 'r':
      return 'reply';
    case 'x':
      return 'toggle';
    default:
      return null;
  }
}

/** The row index after a j/k press; the first press lands on the first row. */
export function moveFocus(current: number, action: 'next' | 'previous', count: number): number {
  if (count === 0) return -1;
  if (current < 0) return 0;
  const next = action === 'next' ? current + 1 : current - 1;
  return Math.max(0, Math.min(count - 1, next));
}

export interface QueueKeyHandlers {
  count: number;
  focused: number;
  setFocused: (index: number) => void;
  open: (index: number) => void;
  reply: (index: number) => void;
  toggle: (index: number) => void;
}

export function useQueueKeys(handlers: QueueKeyHandlers, enabled: boolean): void {
  const latest = useRef(handlers);
  latest.current = handlers;
  useEffect(() => {
    if (!enabled) return undefined;
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.defaultPrevented) return;
      const action = queueKeyAction(event);
      if (!action) return;
      const { count, focused, setFocused, open, reply, toggle } = latest.current;
      if (action === 'next' || action === 'previous') {
        event.preventDefault();
        setFocused(moveFocus(focused, action, count));
        return;
      }
      if (focused < 0 || focused >= count) return;
      event.preventDefault();
      if (action === 'open') open(focused);
      else if (action === 'reply') reply(focused);
      else toggle(focused);
    };
    document.addEventListener('keydown', onKeyDown);
    return () => document.removeEventListener('keydown', onKeyDown);
  }, [enabled]);
}
