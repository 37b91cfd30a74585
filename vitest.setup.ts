/** Says loudly when the PostgreSQL half of the suite is not running. */
export default function setup(): void {
  if (!process.env.COUNTERSIGN_TEST_DATABASE_URL) {
    const line = "=".repeat(78);
    console.warn(
      `\n${line}\n  PostgreSQL suite SKIPPED: COUNTERSIGN_TEST_DATABASE_URL is not set.\n` +
        `  Only SQLite was tested. CI sets it to postgres://postgres@127.0.0.1:5432/test.\n${line}\n`,
    );
  }
}
