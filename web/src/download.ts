import { getBlob } from './api.js';

/** Fetches a file from the API (with the token, when there is one) and hands it to the browser as a download. */
export async function download(path: string, filename: string): Promise<void> {
  const blob = await getBlob(path);
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has taken the blob by the time the click returns; the URL is let go a moment later.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
