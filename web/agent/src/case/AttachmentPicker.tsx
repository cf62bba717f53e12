import { Button } from '@mantine/core';
import { useT } from '../i18n/locale';
import type { useAttachments } from './useAttachments';

type Attachments = ReturnType<typeof useAttachments>;

/** The "Attach files" control of a composer. */
export function AttachButton({ attachments }: { attachments: Attachments }) {
  const t = useT();
  return (
    <label className="file-button">
      <input
        type="file"
        multiple
        className="visually-hidden"
        onChange={(event) => {
          void attachments.add(event.currentTarget.files);
          event.currentTarget.value = '';
        }}
      />
      <span>{attachments.uploading ? t('case.uploading') : t('case.attachFiles')}</span>
    </label>
  );
}

/** Files already uploaded for the draft, each removable. */
export function PendingFiles({ attachments }: { attachments: Attachments }) {
  const t = useT();
  if (attachments.files.length === 0) return null;
  return (
    <ul className="pending-files" aria-label={t('case.attachments')}>
      {attachments.files.map((file) => (
        <li key={file.sha256}>
          {file.filename}
          <Button
            size="compact-xs"
            variant="subtle"
            color="gray"
            aria-label={t('case.removeAttachment', { name: file.filename })}
            onClick={() => attachments.remove(file.sha256)}
          >
            ×
          </Button>
        </li>
      ))}
    </ul>
  );
}
