/** The dashboard speaks only to the public HTTP API, with the session cookie and its CSRF token. */

export interface FieldProblem {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: FieldProblem[];
  constructor(status: number, code: string, message: string, errors: FieldProblem[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

const SAFE = new Set(["GET", "HEAD"]);

export class Api {
  private csrf: string | null = null;
  private readonly onUnauthorized: () => void;

  constructor(onUnauthorized: () => void) {
    this.onUnauthorized = onUnauthorized;
  }

  setCsrfToken(token: string | null): void {
    this.csrf = token;
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    options: { quiet401?: boolean } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (!SAFE.has(method) && this.csrf) headers["x-csrf-token"] = this.csrf;
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        headers,
        credentials: "same-origin",
        cache: "no-store",
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new ApiError(0, "network", "the server cannot be reached; check your connection");
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!res.ok) {
      const problem = (parsed ?? {}) as { code?: string; detail?: string; errors?: FieldProblem[] };
      if (res.status === 401 && !options.quiet401) this.onUnauthorized();
      throw new ApiError(
        res.status,
        problem.code ?? `http_${res.status}`,
        problem.detail ?? `the server answered ${res.status}`,
        problem.errors ?? [],
      );
    }
    return parsed as T;
  }

  get<T>(path: string, options?: { quiet401?: boolean }): Promise<T> {
    return this.request<T>("GET", path, undefined, options);
  }

  post<T>(path: string, body?: unknown, options?: { quiet401?: boolean }): Promise<T> {
    return this.request<T>("POST", path, body ?? {}, options);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PATCH", path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }

  /** Does the server answer this endpoint for us? (Features that have not landed answer 404.) */
  async probe(path: string): Promise<boolean> {
    try {
      const res = await fetch(path, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { accept: "application/json" },
      });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.errors.map((e) => `${e.path}: ${e.message}`).join("; ");
    return fields && !error.message.includes(fields) ? `${error.message} (${fields})` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export const enc = encodeURIComponent;
