import { defineProvider, type Journal } from '@mirrorguard/core';
import { FileNoteStore, MemoryNoteStore, type Note, type NoteStore } from './note-store.ts';

/** Reads the real file; subclasses decide what a write does and journal it. */
abstract class JournalingNoteStore implements NoteStore {
  protected readonly real: FileNoteStore;
  protected readonly journal: Journal;

  constructor(real: FileNoteStore, journal: Journal) {
    this.real = real;
    this.journal = journal;
  }

  list(): Note[] {
    return this.real.list();
  }

  abstract add(text: string): Note;
  abstract remove(id: number): boolean;
}

/**
 * In mirror, writes never reach the file: they are answered with a plausible result and journaled,
 * so the request flow goes on as it did on the primary.
 */
class MirrorNoteStore extends JournalingNoteStore {
  #next = 1_000_000;

  add(text: string): Note {
    this.journal.record({ dependency: 'notes', action: 'simulated', operation: `add ${JSON.stringify(text)}`, reason: 'mirror never writes the notes file' });
    return { id: this.#next++, text };
  }

  remove(id: number): boolean {
    this.journal.record({ dependency: 'notes', action: 'blocked', operation: `remove ${id}`, reason: 'mirror never writes the notes file' });
    return this.real.list().some((note) => note.id === id);
  }
}

/** In record, the primary writes for real and journals each write, so its journal and the mirror's can be compared. */
class RecordingNoteStore extends JournalingNoteStore {
  add(text: string): Note {
    this.journal.record({ dependency: 'notes', action: 'recorded', operation: `add ${JSON.stringify(text)}`, reason: 'written' });
    return this.real.add(text);
  }

  remove(id: number): boolean {
    this.journal.record({ dependency: 'notes', action: 'recorded', operation: `remove ${id}`, reason: 'written' });
    return this.real.remove(id);
  }
}

export function noteStoreProvider(path: string) {
  return defineProvider<NoteStore>({
    live: () => new FileNoteStore(path),
    record: ({ journal }) => new RecordingNoteStore(new FileNoteStore(path), journal),
    mirror: ({ journal }) => new MirrorNoteStore(new FileNoteStore(path), journal),
    test: () => new MemoryNoteStore(),
  });
}
