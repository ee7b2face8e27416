export class ConmonOciRuntime { constructor(..._a: unknown[]) { throw new Error('stub'); } }
