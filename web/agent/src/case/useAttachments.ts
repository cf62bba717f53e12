import { useState } from 'react';
import type { AttachmentRef } from '../api/client';
import { useApi } from '../context';
import { uploadAttachment } from './upload';

/** Files attached to a draft reply or note: uploaded as soon as they are picked, sent with the post. */
export function useAttachments(caseId: string) {
  const api = useApi();
  const [files, setFiles] = useState<AttachmentRef[]>([]);
  const [uploading, setUploading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const add = async (list: FileList | null) => {
    if (!list || list.length === 0) return;
    setUploading(true);
    setError(null);
    try {
      const uploaded: AttachmentRef[] = [];
      for (const file of Array.from(list)) uploaded.push(await uploadAttachment(api, caseId, file));
      setFiles((current) => [...current, ...uploaded.filter((file) => !current.some((c) => c.sha256 === file.sha256))]);
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setUploading(false);
    }
  };
  const remove = (sha256: string) => setFiles((current) => current.filter((file) => file.sha256 !== sha256));
  const clear = () => setFiles([]);
  return { files, uploading, error, add, remove, clear };
}
