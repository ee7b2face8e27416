/**
 * The Network handle `runtime.newNetwork` / `lookupNetwork` / `networks`
 * hand out.
 * @module
 */
import type { ResultAsync } from 'neverthrow';
import type { LibpodError } from '../define/errors.js';
import type { NetworkInspect } from '../define/network.js';
import type { EngineContext } from '../engine/context.js';
import { hardenMethods } from '../util/harden.js';
import { safe } from '../util/safe.js';
import { toInspect, type NetworkConfig } from './network-config.js';
import { lookupNetworkConfig } from './network-query.js';

/** A network (bridge, through netavark). */
export class Network {
  /** Its name. */
  readonly name: string;
  /** Its id (64 hex characters). */
  readonly id: string;
  readonly #ctx: EngineContext;

  /** @internal Handles come from the Runtime. */
  constructor(ctx: EngineContext, config: NetworkConfig) {
    this.#ctx = ctx;
    this.name = config.name;
    this.id = config.id;
  }

  /** Its configuration; `NoSuchNetwork` once removed. */
  inspect(): ResultAsync<NetworkInspect, LibpodError> {
    return safe(() => this.#ctx.guard().asyncAndThen(() => lookupNetworkConfig(this.#ctx, this.id).map(toInspect)));
  }
}

// Every method gets a safe copy of its arguments; hostile input is InvalidArg (util/harden.ts).
hardenMethods(Network.prototype);
