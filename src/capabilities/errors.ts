/** A well-formed file of a kind capa-ts cannot analyse yet (.NET, another architecture). */
export class UnsupportedFileError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnsupportedFileError';
  }
}
