import { NativeSelect } from '@mantine/core';
import { LOCALE_NAMES, type Locale, isLocale } from '../i18n/catalogs';
import { useLocale, useT } from '../i18n/locale';

export function LanguageSelect({ compact = false }: { compact?: boolean }) {
  const t = useT();
  const { locale, setLocale } = useLocale();
  return (
    <NativeSelect
      label={t('shell.language')}
      size={compact ? 'xs' : 'sm'}
      className={compact ? 'language-select compact' : 'language-select'}
      value={locale}
      onChange={(event) => {
        const next = event.currentTarget.value;
        if (isLocale(next)) setLocale(next);
      }}
      data={(Object.keys(LOCALE_NAMES) as Locale[]).map((code) => ({
        value: code,
        label: LOCALE_NAMES[code],
      }))}
    />
  );
}
