import type { Clock, IdGenerator, RandomSource } from "@countersign/core";
import type { Store } from "../storage/store.ts";

/** What every service needs: storage plus the injected clock, randomness and id source. */
export interface ServiceDeps {
  store: Store;
  clock: Clock;
  random: RandomSource;
  ids: IdGenerator;
}
