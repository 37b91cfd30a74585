/** The storage flags every storage-using command accepts (same as `serve`'s). */
export const STORAGE_FLAGS = { data: { type: "string" }, "database-url": { type: "string" } } as const;
