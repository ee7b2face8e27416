/**
 * Detects and opens what `loadImages` was given, in podman's order: an
 * OCI layout directory, an oci-archive (a tar with `oci-layout` and
 * `index.json`; Docker 25's archives are both and load this way, named by
 * their containerd annotation), then a docker-archive (`manifest.json`).
 * @module
 */
import { errAsync, type ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../../define/errors.js';
import type { PlatformSpec } from '../formats/platform.js';
import { openArchiveInput } from './archive-input.js';
import { isDockerArchive, readDockerArchive } from './docker-archive/reader.js';
import { dirLayoutFiles, tarLayoutFiles } from './oci-layout/layout-files.js';
import { isOciLayout, readOciLayout } from './oci-layout/reader.js';
import type { ImageArchive, SourceImage } from './types.js';

/** Options of {@link openImageArchive}. */
export interface OpenArchiveOptions {
  /** Where a stream or compressed archive is spilled (the store's tmp dir). */
  tmpDir: string;
  /** Platform for index entries (default: this host). */
  platform?: PlatformSpec;
}

/** Opens `src` and reads its images' manifests and configs (blobs stream later). */
export function openImageArchive(src: string | NodeJS.ReadableStream, opts: OpenArchiveOptions): ResultAsync<ImageArchive, LibpodError> {
  return openArchiveInput(src, opts.tmpDir).andThen((input) => {
    const withImages = (format: ImageArchive['format'], images: ResultAsync<SourceImage[], LibpodError>): ResultAsync<ImageArchive, LibpodError> =>
      images.map((list): ImageArchive => ({ format, images: list, close: input.close })).orElse((e) => input.close().andThen(() => errAsync(e)));
    if (input.kind === 'dir') {
      const files = dirLayoutFiles(input.path);
      return isOciLayout(files).andThen((yes) =>
        yes ? withImages('oci-dir', readOciLayout(files, opts.platform)) : errAsync(libpodError('InvalidArg', `loadImages: directory ${input.path} is not an OCI layout (no oci-layout file)`)),
      );
    }
    const tar = input.tar;
    if (tar.file('oci-layout') !== undefined && tar.file('index.json') !== undefined) return withImages('oci-archive', readOciLayout(tarLayoutFiles(tar), opts.platform));
    if (isDockerArchive(tar)) return withImages('docker-archive', readDockerArchive(tar));
    return input
      .close()
      .andThen(() => errAsync(libpodError('ImageCorrupt', 'loadImages: payload does not match any of the supported image formats (oci-dir, oci-archive, docker-archive)')));
  });
}

