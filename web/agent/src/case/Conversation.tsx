import { useQuery } from '@tanstack/react-query';
import { type AttachmentRef, type Interaction, unwrap } from '../api/client';
import { useApi } from '../context';
import { useT } from '../i18n/locale';
import { ChannelLabel, DateTime } from '../shell/bits';
import { DeliveryBadge } from './DeliveryBadge';

export function Conversation({ caseId, interactions }: { caseId: string; interactions: Interaction[] }) {
  const t = useT();
  return (
    <ol className="conversation" aria-label={t('case.conversation')}>
      {interactions.map((item) => (
        <InteractionItem key={item.id} caseId={caseId} item={item} />
      ))}
      {interactions.length === 0 && <li className="muted">{t('case.noMessages')}</li>}
    </ol>
  );
}

function InteractionItem({ caseId, item }: { caseId: string; item: Interaction }) {
  const t = useT();
  const internal = item.visibility === 'internal';
  const kind = item.author.kind;
  const authorName = item.author.name || t(`author.${kind}` as const);
  return (
    <li className={`message ${internal ? 'message-internal' : `message-${item.direction}`}`}>
      <div className="message-head">
        <span className="avatar" aria-hidden="true">
          {initials(authorName)}
        </span>
        <span className="message-author">{authorName}</span>
        {internal && <span className="pill pill-note">{t('case.internalNote')}</span>}
        <span className="message-meta">
          <ChannelLabel channel={item.channel} />
          <span aria-hidden="true"> · </span>
          <DateTime iso={item.created_at} />
        </span>
        <DeliveryBadge item={item} />
      </div>
      <div className="message-body">{item.text}</div>
      {item.quoted_text && (
        // Quoted history and signatures of inbound mail, folded away; the full original is linked below.
        <details className="message-quoted">
          <summary>{t('case.showQuoted')}</summary>
          <div className="message-body muted">{item.quoted_text}</div>
        </details>
      )}
      {((item.attachments && item.attachments.length > 0) || item.raw_ref) && (
        <ul className="attachments" aria-label={t('case.attachments')}>
          {(item.attachments ?? []).map((attachment) => (
            <AttachmentItem key={attachment.sha256 + attachment.filename} caseId={caseId} attachment={attachment} />
          ))}
          {item.raw_ref && (
            <AttachmentItem caseId={caseId} attachment={item.raw_ref} label={t('case.originalMessage')} />
          )}
        </ul>
      )}
    </li>
  );
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0]?.toUpperCase())
    .join('');
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Signed download URLs are short-lived: fetched when shown, refreshed before they run out. */
function AttachmentItem({ caseId, attachment, label }: { caseId: string; attachment: AttachmentRef; label?: string }) {
  const t = useT();
  const api = useApi();
  const link = useQuery({
    queryKey: ['attachment', caseId, attachment.sha256],
    staleTime: 4 * 60_000,
    queryFn: async () =>
      unwrap(
        await api.GET('/cases/{case_id}/attachments/{sha256}', {
          params: { path: { case_id: caseId, sha256: attachment.sha256 } },
        }),
      ),
  });
  const isImage = (attachment.content_type ?? '').startsWith('image/');
  return (
    <li className="attachment">
      {link.data ? (
        <a href={link.data.url} target="_blank" rel="noreferrer" className="attachment-link">
          {label ?? attachment.filename}
        </a>
      ) : (
        <span className="attachment-link pending">{label ?? attachment.filename}</span>
      )}
      <span className="muted attachment-size">
        {formatSize(attachment.size)}
        {link.isError ? ` · ${t('case.attachmentUnavailable')}` : ''}
      </span>
      {isImage && link.data && <img className="attachment-preview" src={link.data.url} alt={attachment.filename} />}
    </li>
  );
}
