/**
 * Volume events (`create`, `mount`, `unmount`, `remove`, `prune`), as the
 * event bus and the event log carry them.
 * @module
 */
import type { LibpodEvent, VolumeEventStatus } from '../define/events.js';
import type { VolumeRecord } from '../define/records.js';

/** A volume event: id and name are the volume's name; attributes its labels plus the driver. */
export function volumeEvent(vol: VolumeRecord, status: VolumeEventStatus): LibpodEvent {
  return { type: 'volume', status, id: vol.name, name: vol.name, time: new Date(), attributes: { ...vol.labels, driver: vol.driver } };
}
