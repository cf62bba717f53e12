import { de } from './messages/de';
import { en, type MessageKey } from './messages/en';
import { es } from './messages/es';

export type { MessageKey };
export type Locale = 'en' | 'de' | 'es';

export const catalogs: Record<Locale, Record<MessageKey, string>> = { en, de, es };

/** Each language is offered in its own name. */
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', de: 'Deutsch', es: 'Español' };

export function isLocale(value: string): value is Locale {
  return value === 'en' || value === 'de' || value === 'es';
}
