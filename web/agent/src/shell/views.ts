import { useCallback } from 'react';
import type { ViewId } from '../api/client';
import { useT } from '../i18n/locale';

export const VIEW_IDS: ViewId[] = ['mine', 'team_unassigned', 'all_open', 'pending', 'breaching'];

export function isViewId(value: string | undefined): value is ViewId {
  return Boolean(value) && (VIEW_IDS as string[]).includes(value as string);
}

export function useViewLabel(): (id: ViewId) => string {
  const t = useT();
  return useCallback((id: ViewId) => t(`view.${id}` as const), [t]);
}
