/** Hand a file to the browser as a download (web mode and Electron alike: the page saves through its downloads). */
export function download(file: { name: string; bytes: Uint8Array; mime?: string }): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([file.bytes as BlobPart], { type: file.mime ?? 'image/png' }));
  a.download = file.name;
  a.dataset.testid = 'export-link';
  document.body.append(a);
  a.click();
  // Revoked a little later: the click starts the download asynchronously.
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 1000);
}
