/**
 * The scaled export's choices (File › Export PNG scaled…): the scale and the filter. Kept for the session, so a
 * second export of the same kind is one click; the page's dialog binds to these.
 */
import { EXPORT_SCALES, type ExportScale } from '../export-png';
import { RESAMPLE_FILTERS, type ResampleFilter } from '../resample';

export class ExportSettings {
  #scale = $state<ExportScale>(2);
  #filter = $state<ResampleFilter>('lanczos');

  get scale(): ExportScale {
    return this.#scale;
  }
  /** Only 1, 2 or 4: anything else (a stale form value) keeps the current scale. */
  set scale(s: number) {
    if ((EXPORT_SCALES as readonly number[]).includes(s)) this.#scale = s as ExportScale;
  }
  get filter(): ResampleFilter {
    return this.#filter;
  }
  set filter(f: string) {
    if ((RESAMPLE_FILTERS as readonly string[]).includes(f)) this.#filter = f as ResampleFilter;
  }
}
