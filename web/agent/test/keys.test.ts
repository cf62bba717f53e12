import { describe, expect, it } from 'vitest';
import { moveFocus, queueKeyAction } from '../src/queue/keys';

function key(name: string, target: EventTarget | null = document.body, extra: Partial<KeyboardEvent> = {}) {
  return { key: name, altKey: false, ctrlKey: false, metaKey: false, target, ...extra };
}

describe('queue keyboard', () => {
  it('maps j/k/Enter/r/x to actions', () => {
    expect(queueKeyAction(key('j'))).toBe('next');
    expect(queueKeyAction(key('k'))).toBe('previous');
    expect(queueKeyAction(key('Enter'))).toBe('open');
    expect(queueKeyAction(key('r'))).toBe('reply');
    expect(queueKeyAction(key('x'))).toBe('toggle');
    expect(queueKeyAction(key('q'))).toBeNull();
  });

  it('leaves typing alone', () => {
    const input = document.createElement('input');
    const textarea = document.createElement('textarea');
    const select = document.createElement('select');
    expect(queueKeyAction(key('j', input))).toBeNull();
    expect(queueKeyAction(key('x', textarea))).toBeNull();
    expect(queueKeyAction(key('k', select))).toBeNull();
    const checkbox = document.createElement('input');
    checkbox.type = 'checkbox';
    expect(queueKeyAction(key('x', checkbox))).toBe('toggle');
  });

  it('ignores modified keys, keys inside dialogs, and Enter on links', () => {
    expect(queueKeyAction(key('r', document.body, { ctrlKey: true }))).toBeNull();
    const dialog = document.createElement('div');
    dialog.setAttribute('role', 'dialog');
    const inside = document.createElement('div');
    dialog.append(inside);
    expect(queueKeyAction(key('j', inside))).toBeNull();
    const link = document.createElement('a');
    expect(queueKeyAction(key('Enter', link))).toBeNull();
  });

  it('moves within bounds and starts at the first row', () => {
    expect(moveFocus(-1, 'next', 3)).toBe(0);
    expect(moveFocus(-1, 'previous', 3)).toBe(0);
    expect(moveFocus(0, 'next', 3)).toBe(1);
    expect(moveFocus(2, 'next', 3)).toBe(2);
    expect(moveFocus(0, 'previous', 3)).toBe(0);
    expect(moveFocus(1, 'next', 0)).toBe(-1);
  });
});
