/** Where a run writes: process.stdout/stderr by default, string collectors in tests. */
export interface Writer {
  write(chunk: string): unknown;
  /** A terminal: the progress bar is drawn only there. */
  isTTY?: boolean;
}

export interface Io {
  stdout: Writer;
  stderr: Writer;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr };
}
