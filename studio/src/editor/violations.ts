// Violations placed where they belong: Cot reports each at its JSON pointer
// (`/fields/3/max_length`), so the editor shows it at that field and option.
import type { Violation } from '../api/types';

export class Placed {
  constructor(readonly all: Violation[]) {}

  /** Violations whose pointer is exactly this one. */
  at(pointer: string): Violation[] {
    return this.all.filter((v) => v.pointer === pointer);
  }

  /** Violations at this pointer or under it. */
  under(pointer: string): Violation[] {
    return this.all.filter((v) => v.pointer === pointer || v.pointer.startsWith(`${pointer}/`));
  }

  /** Violations of field i: at /fields/i or any of its keys. */
  field(i: number): Violation[] {
    return this.under(`/fields/${i}`);
  }

  /** Violations not at any field: the entity's own keys, its indexes and access rules. */
  entityLevel(): Violation[] {
    return this.all.filter((v) => !/^\/fields\/\d+/.test(v.pointer));
  }

  /** Refusals that are data loss (22000): they need a confirmation, not a fix. */
  get losses(): Violation[] {
    return this.all.filter((v) => v.sqlstate === '22000');
  }

  get blocking(): Violation[] {
    return this.all.filter((v) => v.sqlstate !== '22000');
  }
}
