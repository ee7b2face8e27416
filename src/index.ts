/**
 * libpod-ts: a daemonless container engine as a TypeScript library.
 *
 * ```ts
 * import { Runtime } from 'libpod-ts';
 * const rt = (await Runtime.open()).unwrapOr(undefined);
 * ```
 * @packageDocumentation
 */

// Engine
export { Runtime } from './runtime.js';
export { labelsMatch, type ContainerFilter } from './container/container-filter.js';
export type { RuntimeOptions, StorageOptions } from './runtime-options.js';
export { Container, type LogOptions } from './container/container.js';
export type { ExecOptions, ExecResult } from './container/exec.js';
export type { HealthCheckResult } from './container/health.js';
export type { AttachHandle, AttachOptions } from './container/attach.js';
export type { ContainerCheckpointOptions } from './container/checkpoint.js';
export type { RemoveContainerOptions } from './container/remove.js';
export type { LogLine } from './container/logs.js';

// Pods and volumes
export { Pod, type PodStopOptions } from './pod/pod.js';
export { DEFAULT_POD_SHARE, POD_NAMESPACES, type PodCreateOptions } from './pod/pod-create.js';
export type { RemovePodOptions } from './pod/pod-remove.js';
export { POD_STATES, type PodFilter, type PodInspect, type PodInspectContainer, type PodState, type PodStatus } from './pod/pod-status.js';
export { Volume, type VolumeInspect } from './volume/volume.js';
export type { VolumeCreateOptions } from './volume/volume-create.js';
export type { VolumeFilter } from './volume/volume-query.js';
export type { RemoveVolumeOptions } from './volume/volume-remove.js';
export type { VolumeExportTarget, VolumeImportSource } from './volume/volume-archive.js';
export { Network } from './network/network.js';
export type {
  NetworkAttachOptions,
  NetworkAttachment,
  NetworkCreateOptions,
  NetworkEndpoint,
  NetworkFilter,
  NetworkInspect,
  NetworkSettings,
  NetworkSubnet,
  PortMapping,
  ResolvedPort,
  ContainerNetworkState,
} from './define/network.js';
export type { DetachedTeardown, NetworkBackend, NetworkBackendDirs, SetupNetworkOptions, SetupPortMapping, SetupRequest, StatusBlock } from './network/backend.js';
export { DEFAULT_NETWORK, type NetworkConfig } from './network/network-config.js';
export { FakeNetworkBackend, type FakeNetworkOp } from './network/fake/fake-network-backend.js';
export { NetavarkNetworkBackend, NETWORK_PACKAGES, type NetavarkOptions } from './network/netavark/netavark-backend.js';

// Images
export { Image } from './image/image.js';
export type { ImageHistoryEntry, ImageInspect, ImageInspectConfig } from './image/image-inspect.js';
export type { ImageFilter, RemoveImageOptions, RemoveImageResult } from './image/image-verbs.js';
export type { PullOptions, PullProgress, RegistriesConfig } from './image/pull.js';
export type { PushOptions } from './image/push/push-image.js';
export type { PushCompression } from './image/store/blob-info.js';
export type { Credentials } from './image/transports/registry/auth.js';
export { ImageStore, type ImageStoreOptions, type ContainerLayerRecord, type ImageRecord, type LayerRecord, type PutImageInput, type PutLayerInput, type PutLayerResult, type StorageDriverName } from './image/store/image-store.js';
export type { SaveImagesOptions } from './image/archive-verbs.js';
export { ARCHIVE_FORMATS, type ArchiveFormat } from './image/transports/types.js';
export type { CommitOptions } from './container/commit.js';

// Errors, states, data
export { LibpodError, ERROR_CODES, isLibpodError, type ErrorCode, type LibpodErrorOptions } from './define/errors.js';
export { CONTAINER_STATES, TRANSITIONS, isContainerState, type ContainerState, type LifecycleVerb } from './define/states.js';
export type {
  ContainerConfig,
  NetworkMode,
  ContainerCreateOptions,
  ContainerMount,
  ContainerResources,
  ContainerVolume,
  HealthCheckConfig,
  PullPolicy,
  RestartPolicy,
} from './define/config.js';
export type { ContainerInspect, InspectExecSession, InspectMount } from './define/inspect.js';
export type {
  ContainerEventStatus,
  EventFilter,
  EventStatus,
  EventType,
  ImageEventStatus,
  LibpodEvent,
  LibpodEvent as Event,
  PodEventStatus,
  ReadEventsOptions,
  RuntimeEvents,
  SystemEventStatus,
  VolumeEventStatus,
  NetworkEventStatus,
} from './define/events.js';
export type { AttachEnd, AttachStreams, TerminalSize } from './define/streams.js';
export { parseSignal, type Signal } from './define/signals.js';
export type {
  ContainerRecord,
  ContainerStateRecord,
  ExecSessionRecord,
  HealthLogEntry,
  HealthRecord,
  HealthStatus,
  OciHookRecord,
  PodNamespace,
  PodRecord,
  RecordKind,
  RecordMap,
  VolumeRecord,
} from './define/records.js';
export { RuntimeEventEmitter } from './events/event-bus.js';

// Pluggable parts: state stores
export type { StateStore, StateStoreCapabilities, StateWriteOp } from './state/state-store.js';
export { MemoryStateStore } from './state/memory-state-store.js';
export { LevelStateStore } from './state/level-state-store.js';

// Pluggable parts: OCI runtimes
export type {
  OciAttachRequest,
  OciAttachSession,
  OciCheckpointRequest,
  OciContainerStatus,
  OciCreateRequest,
  OciCreateResult,
  OciExecRequest,
  OciExecSession,
  OciExitInfo,
  OciRuntime,
  OciRuntimeEnvironment,
  OciRuntimeFeatures,
  OciStopRequest,
} from './oci/oci-runtime.js';
export type {
  OciCapabilities,
  OciDeviceCgroup,
  OciHook,
  OciHooks,
  OciLinux,
  OciMount,
  OciNamespace,
  OciProcess,
  OciResources,
  OciRlimit,
  OciSeccomp,
  OciSeccompArg,
  OciSeccompSyscall,
  OciSpec,
  OciUser,
} from './oci/oci-spec-types.js';
export { FakeOciRuntime, type FakeOciRuntimeOptions } from './oci/fake/fake-oci-runtime.js';
export type {
  FakeContainerState,
  FakeExecHandler,
  FakeExecOutcome,
  FakeExecRequest,
  FakeExecResult,
  FakeExecSessionInfo,
  FakeOperation,
  FakeStartAction,
  FakeStartHandler,
  FakeStartRequest,
  FakeStdinHandler,
} from './oci/fake/fake-types.js';
export { ConmonOciRuntime, type ConmonOciRuntimeOptions } from './oci/conmon/conmon-oci-runtime.js';
export type { ConmonLogLevel } from './oci/conmon/conmon-args.js';
