import { UnavailableError } from "@countersign/core";
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from "kysely";

/**
 * Holds back each read's rows until the commits it may have seen are on disk. A commit becomes
 * visible to other connections when COMMIT returns, but (see WalSync) is durable only once the sync
 * issued right after it finishes; a read answered in between could show a caller a change that a
 * power cut would then undo. Reads that find no sync pending, nearly all of them, pass straight on.
 */
export class DurableReads implements KyselyPlugin {
  private readonly durable: () => Promise<void> | undefined;

  /** `durable`: undefined when every commit so far is on disk, else a promise that settles when they are. */
  constructor(durable: () => Promise<void> | undefined) {
    this.durable = durable;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const sync = this.durable();
    if (sync) {
      await sync.catch((error: unknown) => {
        throw new UnavailableError(`the database could not make a commit durable: ${String(error)}`);
      });
    }
    return args.result;
  }
}
