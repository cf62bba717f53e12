import { TYPE, parse, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { describe, expect, it } from 'vitest';
import { catalogs } from '../src/i18n/catalogs';
import { en } from '../src/i18n/messages/en';

function argumentsOf(elements: MessageFormatElement[], into = new Set<string>()): Set<string> {
  for (const element of elements) {
    if (element.type === TYPE.argument || element.type === TYPE.number || element.type === TYPE.date) {
      into.add(element.value);
    } else if (element.type === TYPE.plural || element.type === TYPE.select) {
      into.add(element.value);
      for (const option of Object.values(element.options)) argumentsOf(option.value, into);
    } else if (element.type === TYPE.tag) {
      argumentsOf(element.children, into);
    }
  }
  return into;
}

describe('translations', () => {
  const keys = Object.keys(en).sort();

  for (const [locale, messages] of Object.entries(catalogs)) {
    it(`${locale} has every English key and no others`, () => {
      const missing = keys.filter((key) => !(key in messages));
      const extra = Object.keys(messages).filter((key) => !(key in en));
      expect(missing, `missing in ${locale}`).toEqual([]);
      expect(extra, `unknown keys in ${locale}`).toEqual([]);
    });

    it(`${locale} messages parse as ICU and use the same arguments as English`, () => {
      for (const key of keys) {
        const text = (messages as Record<string, string>)[key];
        expect(text.trim(), `${locale} ${key} is empty`).not.toBe('');
        const expected = argumentsOf(parse(en[key as keyof typeof en]));
        expect(argumentsOf(parse(text)), `${locale} ${key}`).toEqual(expected);
      }
    });
  }

  it('uses the names the browser tests rely on in English', () => {
    expect(en['view.team_unassigned']).toBe("My teams' unassigned");
    expect(en['shell.reconnecting']).toBe('Reconnecting…');
    expect(en['bulk.resultLine']).toBe('{ok} updated, {failed} failed');
  });
});
