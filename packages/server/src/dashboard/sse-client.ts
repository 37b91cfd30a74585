/** A minimal server-sent-events reader for tests: what a browser's EventSource would dispatch. */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
  /** Comment lines (heartbeats) seen since the previous message. */
  comments: string[];
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** The next message matching `match` (others are skipped); rejects when the stream ends first. */
  next(match?: (m: SseMessage) => boolean): Promise<SseMessage>;
  /** Every comment line read so far. */
  comments: string[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string>): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: abort.signal,
  });
  const queue: SseMessage[] = [];
  const waiters: Array<() => void> = [];
  const comments: string[] = [];
  let done = false;
  const notify = () => {
    for (const w of waiters.splice(0)) w();
  };
  const ended = (async () => {
    if (!res.body) return;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let current: SseMessage = { id: undefined, event: "message", data: "", comments: [] };
    try {
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        buffer += value;
        let nl = buffer.indexOf("\n");
        while (nl >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line === "") {
            if (current.data !== "") queue.push(current);
            current = { id: undefined, event: "message", data: "", comments: [] };
            notify();
          } else if (line.startsWith(":")) {
            comments.push(line);
            current.comments.push(line);
            notify();
          } else {
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "id") current.id = value;
            else if (field === "event") current.event = value;
            else if (field === "data") current.data += current.data ? `\n${value}` : value;
          }
          nl = buffer.indexOf("\n");
        }
      }
    } catch {
      // aborted by close()
    } finally {
      done = true;
      notify();
    }
  })();
  return {
    status: res.status,
    headers: res.headers,
    comments,
    ended,
    async next(match = () => true) {
      for (;;) {
        const index = queue.findIndex(match);
        if (index >= 0) {
          const [found] = queue.splice(0, index + 1).slice(-1);
          if (found) return found;
        }
        if (done) throw new Error("the stream ended");
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    close() {
      abort.abort();
    },
  };
}
