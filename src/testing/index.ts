/**
 * `libpod-ts/testing`: what third-party code needs to test against libpod-ts.
 *
 * - {@link runStateStoreConformance}: the suite every {@link StateStore} passes
 *   (both built-in stores run it), for your own store in two lines.
 * - {@link runOciRuntimeConformance}: the suite every {@link OciRuntime} passes
 *   (the fake and conmon + runc run it).
 * - {@link FakeOciRuntime}: a deterministic in-memory runtime for unit tests of
 *   code that drives containers, no root needed.
 *
 * The suites register `node:test` cases; call them at the top level of a test file.
 * @packageDocumentation
 */
export { runStateStoreConformance, type StateStoreFactory, type StateStoreFixture } from './state-store-conformance.js';
export {
  runOciRuntimeConformance,
  OCI_CONFORMANCE_ARGS,
  type OciConformanceBehaviour,
  type OciConformanceFactory,
  type OciConformanceHarness,
} from './oci-runtime-conformance.js';
export { makeContainerRecord, makePodRecord, makeVolumeRecord, defaultContainerConfig, type ContainerRecordOverrides } from './records.js';
export { FakeOciRuntime } from '../oci/fake/fake-oci-runtime.js';
export type { StateStore } from '../state/state-store.js';
export type { OciRuntime } from '../oci/oci-runtime.js';
