import { readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface Note {
  readonly id: number;
  readonly text: string;
}

/** What the app needs from its store. The profile decides which implementation it gets. */
export interface NoteStore {
  list(): Note[];
  add(text: string): Note;
  remove(id: number): boolean;
}

/** The real dependency: a JSON file on disk, shared by whoever points at it. */
export class FileNoteStore implements NoteStore {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  list(): Note[] {
    return JSON.parse(readFileSync(this.path, 'utf8')) as Note[];
  }

  add(text: string): Note {
    const notes = this.list();
    const note = { id: Math.max(0, ...notes.map((n) => n.id)) + 1, text };
    this.#save([...notes, note]);
    return note;
  }

  remove(id: number): boolean {
    const notes = this.list();
    const kept = notes.filter((note) => note.id !== id);
    this.#save(kept);
    return kept.length !== notes.length;
  }

  #save(notes: Note[]): void {
    writeFileSync(`${this.path}.tmp`, JSON.stringify(notes, null, 2));
    renameSync(`${this.path}.tmp`, this.path);
  }
}

/** For unit tests: nothing outside the process. */
export class MemoryNoteStore implements NoteStore {
  #notes: Note[] = [];

  list(): Note[] {
    return [...this.#notes];
  }

  add(text: string): Note {
    const note = { id: this.#notes.length + 1, text };
    this.#notes.push(note);
    return note;
  }

  remove(id: number): boolean {
    const before = this.#notes.length;
    this.#notes = this.#notes.filter((note) => note.id !== id);
    return this.#notes.length !== before;
  }
}
