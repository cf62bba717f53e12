import { type ReactNode, createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { IntlProvider, useIntl } from 'react-intl';
import { type Locale, type MessageKey, catalogs, isLocale } from './catalogs';

const STORAGE_KEY = 'caseline.locale';

interface LocaleState {
  locale: Locale;
  setLocale: (locale: Locale) => void;
}

const LocaleContext = createContext<LocaleState>({ locale: 'en', setLocale: () => {} });

function initialLocale(fallback: string): Locale {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored && isLocale(stored)) return stored;
  return isLocale(fallback) ? fallback : 'en';
}

export function LocaleProvider({ defaultLocale, children }: { defaultLocale: string; children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(() => initialLocale(defaultLocale));
  const setLocale = useCallback((next: Locale) => {
    localStorage.setItem(STORAGE_KEY, next);
    setLocaleState(next);
  }, []);
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const value = useMemo(() => ({ locale, setLocale }), [locale, setLocale]);
  return (
    <LocaleContext.Provider value={value}>
      <IntlProvider locale={locale} messages={catalogs[locale]} defaultLocale="en">
        {children}
      </IntlProvider>
    </LocaleContext.Provider>
  );
}

/** Re-provides the messages with the signed-in agent's own time zone for every date and time below. */
export function TimeZoneProvider({ timeZone, children }: { timeZone: string | undefined; children: ReactNode }) {
  const { locale } = useLocale();
  return (
    <IntlProvider locale={locale} messages={catalogs[locale]} defaultLocale="en" timeZone={validZone(timeZone)}>
      {children}
    </IntlProvider>
  );
}

export function validZone(zone: string | undefined): string | undefined {
  if (!zone) return undefined;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone;
  } catch {
    return undefined;
  }
}

export function useLocale(): LocaleState {
  return useContext(LocaleContext);
}

export type Translate = (id: MessageKey, values?: Record<string, string | number | Date>) => string;

export function useT(): Translate {
  const intl = useIntl();
  return useCallback<Translate>((id, values) => intl.formatMessage({ id }, values), [intl]);
}

/** Date and time in the agent's zone, e.g. "4 Dec 2026, 14:05". */
export function useFormatDateTime(): (iso: string | null | undefined) => string {
  const intl = useIntl();
  return useCallback(
    (iso) => (iso ? intl.formatDate(iso, { dateStyle: 'medium', timeStyle: 'short' }) : ''),
    [intl],
  );
}
